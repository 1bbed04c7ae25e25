from hubchaos.cli import main

main()
