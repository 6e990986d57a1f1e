"""Copy finished runs into pretrained/<experiment>/: the runs that ship with the project."""
import sys

from replication.shipping import main

if __name__ == "__main__":
    sys.exit(main())
