"""Sensor and actuator drivers. Each takes its machine objects (UART, Pin, ADC, PWM) in its
constructor, so a host fake from `tingfw.fakes` can stand in for the hardware."""
