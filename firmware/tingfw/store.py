"""Device persistence for the apps: small named records in flash, written atomically.

write() goes to NAME.tmp and is renamed over NAME: littlefs renames atomically, so a power
cut leaves either the old or the new record, never half of one (firmware.md §7.1).
"""

import os


class FileStore:
    def __init__(self, directory="/state"):
        self.directory = directory
        try:
            os.mkdir(directory)
        except OSError:
            pass  # exists

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
        os.rename(path + ".tmp", path)
