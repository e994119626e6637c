"""The control plane: provisioning, commands to devices, command status, device health."""
