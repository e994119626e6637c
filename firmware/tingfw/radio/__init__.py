"""Radio back-ends for the Tingbro firmware.

Import the one you need, nothing is imported eagerly (RAM on the device):
`tingfw.radio.sx12xx` (micropython-lib lora drivers), `tingfw.radio.at_modem`
(Wio-E5, RAK3172/RUI3), `tingfw.radio.virtual` (Semtech UDP for the host),
`tingfw.radio.clock` (clocks passed to the MAC).
"""
