from nzr_cli.main import main

main()
