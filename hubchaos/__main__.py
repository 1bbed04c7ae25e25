from hubchaos.cli.app import main

main()
