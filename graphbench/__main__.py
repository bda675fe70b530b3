from graphbench.cli import main

if __name__ == "__main__":  # not when a worker process re-imports it
    raise SystemExit(main())
