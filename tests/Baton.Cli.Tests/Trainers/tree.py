"""A trainer for the process-tree tests of `baton run`, run by Debian's /usr/bin/python3 (standard library only).

It counts steps, saves ckpt-STEP.bin into $BATON_CKPT_DIR (written to a temporary name, then renamed) and says
what it does on stdout, one line per event:

  --import-seconds S    sleeps S seconds before it installs any handler (a trainer still importing torch)
  --register            writes its pid to $BATON_SIGNAL_FILE once its SIGUSR1 handler is installed
  --save-seconds S      a save takes S seconds (SIGTERM makes it save, then exit 0)

SIGUSR1 makes it save a checkpoint and go on; SIGTERM makes it save and exit 0.
"""
import argparse
import os
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--import-seconds", type=float, default=0)
parser.add_argument("--register", action="store_true")
parser.add_argument("--save-seconds", type=float, default=0)
args = parser.parse_args()


def say(line):
    print(line, flush=True)


def save(step):
    directory = os.environ["BATON_CKPT_DIR"]
    time.sleep(args.save_seconds)
    temporary = os.path.join(directory, f".ckpt-{step}.tmp")
    with open(temporary, "wb") as f:
        f.write(f"weights at step {step}".encode())
    os.rename(temporary, os.path.join(directory, f"ckpt-{step}.bin"))


say(f"importing (pid {os.getpid()})")
time.sleep(args.import_seconds)

requests = []
signal.signal(signal.SIGUSR1, lambda *_: requests.append("checkpoint"))
signal.signal(signal.SIGTERM, lambda *_: requests.append("stop"))
if args.register:
    with open(os.environ["BATON_SIGNAL_FILE"], "w") as f:
        f.write(str(os.getpid()))
say("ready")

step = 0
while True:
    step += 1
    time.sleep(0.02)
    while requests:
        request = requests.pop(0)
        if request == "checkpoint":
            save(step)
            say(f"checkpoint on SIGUSR1 at step {step}")
        else:
            say(f"saving step {step} on SIGTERM")
            save(step)
            say(f"saved step {step}")
            sys.exit(0)
