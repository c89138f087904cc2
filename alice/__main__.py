from alice.cli import main

main()
