"""The desktop app. Qt lives only under this folder."""
