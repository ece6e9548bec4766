from .cli import main

if __name__ == "__main__":  # spawned engine workers re-import this module: do not run again
    main()
