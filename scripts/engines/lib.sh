# Shared by the engine scripts in this directory (sourced, never run).

# pid_alive PID: the process exists and is not a zombie. On these machines init reaps a killed process
# seconds late, and until then `kill -0` succeeds for it, so a bare `kill -0` calls a dead JVM alive.
pid_alive() { kill -0 "$1" 2>/dev/null && [ "$(sed -E 's/.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
