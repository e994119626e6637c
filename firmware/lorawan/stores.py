"""Stores for persistence, the I/O edge of persist.py: a directory on flash, and RTC memory.

Both offer store.read(name) -> bytes|None and store.write(name, data). persist.py keeps every record
in two slots with a CRC, so it survives a torn write even where a store cannot write atomically.
"""


class FileStore:
    """One file per record in a directory (littlefs on the device): write to NAME.tmp, then rename."""

    def __init__(self, directory, os_module=None):
        if os_module is None:
            import os as os_module
        self.os = os_module
        self.directory = directory.rstrip("/")
        try:
            self.os.mkdir(self.directory)
        except OSError:
            pass  # exists already

    def _path(self, name):
        return "%s/%s" % (self.directory, name)

    def read(self, name):
        try:
            with open(self._path(name), "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def write(self, name, data):
        path = self._path(name)
        with open(path + ".tmp", "wb") as handle:
            handle.write(data)
        self.os.rename(path + ".tmp", path)  # littlefs: an atomic replace


class RtcStore:
    """Named records packed into one RTC-memory blob that survives deep sleep (not power loss).

    memory is callable like machine.RTC().memory: memory() -> bytes, memory(data) writes
    (2048 bytes on esp32). For machine.mem_backup() wrap its memoryview in such a callable.
    Layout: [name length (1) | name | data length (2, little-endian) | data] ...
    """

    def __init__(self, memory, capacity=2048):
        self.memory = memory
        self.capacity = capacity

    def _records(self):
        blob = bytes(self.memory() or b"")
        records = {}
        pos = 0
        while pos + 3 <= len(blob) and blob[pos]:
            name_end = pos + 1 + blob[pos]
            if name_end + 2 > len(blob):
                break
            size = blob[name_end] | blob[name_end + 1] << 8
            if name_end + 2 + size > len(blob):
                break
            records[blob[pos + 1 : name_end].decode()] = blob[name_end + 2 : name_end + 2 + size]
            pos = name_end + 2 + size
        return records

    def read(self, name):
        return self._records().get(name)

    def write(self, name, data):
        records = self._records()
        records[name] = bytes(data)
        blob = bytearray()
        for key in sorted(records):
            value = records[key]
            blob.append(len(key))
            blob.extend(key.encode())
            blob.append(len(value) & 0xFF)
            blob.append(len(value) >> 8)
            blob.extend(value)
        if len(blob) > self.capacity:
            raise ValueError("RTC memory holds %d bytes, records need %d" % (self.capacity, len(blob)))
        self.memory(bytes(blob))
