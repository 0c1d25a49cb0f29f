"""A warm `derogation` for scripts that run dozens of commands (tests/e2e/test_cli.py runs the examples'
build.sh through it): this process imports the CLI once, then forks one process per command, as
tests/e2e/fault_worker.py does for the SIGKILL trials.

Each command is a process of its own, with the caller's stdin, stdout and stderr (passed over a
Unix socket, so redirections and `$(...)` work as for the real executable), its environment and
working directory, and it exits with the command's exit code; an uncaught exception prints its
traceback and exits 1, as the interpreter does. Only the interpreter start and the imports of
`python -m assistant` are saved.

Server:  python tests/e2e/cli_server.py SOCKET       (prints "ready" once it listens)
Client:  python -I -S tests/e2e/cli_server.py --client ARGS…   (DEROGATION_CLI_SERVER=SOCKET)
"""

from __future__ import annotations

import json
import os
import socket
import sys

SOCKET_VARIABLE = "DEROGATION_CLI_SERVER"


def client(argv: list[str]) -> int:
    """What a script runs instead of `python -m assistant`: the command's exit code."""
    request = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(os.environ[SOCKET_VARIABLE])
        socket.send_fds(conn, [len(request).to_bytes(8, "big")], [0, 1, 2])
        conn.sendall(request)
        status = b""
        while chunk := conn.recv(64):
            status += chunk
    if not status:
        print("error: the warm derogation server went away", file=sys.stderr)
        return 70
    return int(status)


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client went away")
        data += chunk
    return data


def _exit_code(exc: SystemExit) -> int:
    """The exit code `sys.exit(x)` gives a process (a message is printed and gives 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _run_command(request: dict, fds: list[int]) -> None:
    """In the forked child: become `python -m assistant ARGV` for the caller, then exit."""
    import atexit
    import runpy
    import traceback

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [sys.argv[0], *request["argv"]]
    code = 0
    try:
        runpy.run_module("assistant", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught exception
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve(path: str) -> None:
    import assistant.cli.main  # noqa: F401 - what `python -m assistant` imports before any command

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(8)
        print("ready", flush=True)
        while True:
            conn, _ = listener.accept()
            with conn:
                header, fds, _, _ = socket.recv_fds(conn, 8, 3)
                try:
                    request = json.loads(_recv_exactly(conn, int.from_bytes(header, "big")))
                except (ConnectionError, ValueError):
                    for fd in fds:
                        os.close(fd)
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    conn.close()
                    _run_command(request, fds)
                for fd in fds:  # the child holds them now: EOF reaches the reader when it exits
                    os.close(fd)
                _, status = os.waitpid(pid, 0)
                code = os.waitstatus_to_exitcode(status)
                conn.sendall(str(code if code >= 0 else 128 - code).encode())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        sys.exit(client(sys.argv[2:]))
    serve(sys.argv[1])
