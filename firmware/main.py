# Device entry point: /main.py. Everything else lives in /lib (tingfw, lorawan, tingcodec).
from tingfw.main import main

main()
