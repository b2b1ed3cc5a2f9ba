from grokscope.cli import main

main()
