"""`python -m cardgrader` and the packaged app's executable (build.spec's script)."""

from cardgrader.frozen import launch

if __name__ == "__main__":
    raise SystemExit(launch())
