from bookwise.cli import main

main()
