"""Host preparation: Debian packages, system users, ownership, Java detection."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import threading
from pathlib import Path

from tools.stack.service import ServiceError

# `stack up` starts services in parallel; dpkg allows one apt-get at a time.
_APT_LOCK = threading.Lock()
# ...and another process (unattended upgrades on a fresh machine) may hold it: wait instead of failing.
_APT_WAIT = ["-o", "DPkg::Lock::Timeout=600"]


def ensure_debian_package(binary: str, package: str) -> None:
    """`apt-get install -y <package>` when `binary` is missing; `apt-get update` then retry on failure."""
    if shutil.which(binary) or Path(binary).exists():
        return
    with _APT_LOCK:
        if shutil.which(binary) or Path(binary).exists():
            return
        install = ["apt-get", *_APT_WAIT, "install", "-y", "--no-install-recommends", package]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(install, env=env, check=False).returncode != 0:
            subprocess.run(["apt-get", *_APT_WAIT, "update"], env=env, check=True)
            subprocess.run(install, env=env, check=True)


def ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True
        )


def chown_tree(path: Path, user: str, force: bool = False) -> None:
    """Give `path` (recursively) to `user`; unless `force`, skipped when the top already belongs to it."""
    entry = pwd.getpwnam(user)
    if not force and path.stat().st_uid == entry.pw_uid:
        return
    subprocess.run(["chown", "-R", f"{entry.pw_uid}:{entry.pw_gid}", str(path)], check=True)


def as_user(user: str, argv: list[str]) -> list[str]:
    """argv that runs `argv` as `user`; setpriv execs, so the recorded pid is the server's own."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid", user, "--regid", user, "--init-groups", "--", *argv]


def find_java_home(configured: Path | None, minimum: int = 17) -> Path:
    """JAVA_HOME (or STACK_JAVA_HOME), else the `java` on PATH, else the Debian default JDK 17."""
    candidates: list[Path] = []
    if configured:
        candidates.append(configured)
    if java := shutil.which("java"):
        candidates.append(Path(os.path.realpath(java)).parent.parent)
    candidates.append(Path("/usr/lib/jvm/java-17-openjdk-amd64"))
    for home in candidates:
        if java_major(home) >= minimum:
            return home
    if os.geteuid() == 0 and shutil.which("apt-get"):  # a bare machine: Debian's JRE 17 is enough
        debian_jdk = Path("/usr/lib/jvm/java-17-openjdk-amd64")
        ensure_debian_package(str(debian_jdk / "bin" / "java"), "openjdk-17-jre-headless")
        if java_major(debian_jdk) >= minimum:
            return debian_jdk
    raise ServiceError(f"no Java {minimum}+ found (tried {', '.join(map(str, candidates))}); set JAVA_HOME")


def java_major(home: Path) -> int:
    java = home / "bin" / "java"
    if not java.exists():
        return 0
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else 0
