from pbx_bridge.cli import main

main()
