"""Starting Spark for a scan: pyspark imported on demand, Java and the master URL checked
before a JVM starts (Spark would answer with a Java stack trace)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ...errors import ConfigError, MissingExtraError

PYSPARK_MISSING = "the Spark engine needs pyspark: pip install 'dedup[spark]'"
# What SparkContext accepts (with the cluster managers spark-submit knows).
_MASTER_RE = re.compile(
    r"^(?:local(?:\[[^\]]+\])?|local-cluster\[[^\]]+\]|(?:spark|k8s)://.+|yarn)$"
)


def import_pyspark() -> Any:
    try:
        import pyspark
        from pyspark.sql import SparkSession  # noqa: F401
    except ImportError:
        raise MissingExtraError(PYSPARK_MISSING) from None
    return pyspark


def required_java(pyspark_version: str) -> int:
    """Oldest Java major version a pyspark release runs on (Spark 4 needs 17)."""
    found = re.match(r"\d+", pyspark_version)
    major = int(found.group()) if found else 4
    return 17 if major >= 4 else 8


def check_java(need: int = 17) -> int:
    """Find the Java Spark will start (``JAVA_HOME``, else ``java`` on PATH) and check its
    version before any JVM starts.

    Returns:
        The Java major version.

    Raises:
        ConfigError: no Java, or one older than ``need``.
    """
    hint = f"install Java {need} (apt-get install openjdk-{need}-jre-headless) or set JAVA_HOME"
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not java.is_file():
            raise ConfigError(
                f"the Spark engine needs Java {need} or newer, but JAVA_HOME is {java_home!r} "
                f"and {java} does not exist: point JAVA_HOME at a Java installation, or unset it "
                "to use java on PATH"
            )
        command = str(java)
    else:
        found = shutil.which("java")
        if not found:
            raise ConfigError(
                f"the Spark engine needs Java {need} or newer, and none was found (JAVA_HOME "
                f"is not set and java is not on PATH): {hint}"
            )
        command = found
    try:
        run = subprocess.run(
            [command, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(
            f"the Spark engine cannot run {command} -version ({exc}): {hint}"
        ) from None
    output = (run.stderr or "") + (run.stdout or "")
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if run.returncode != 0 or not match:
        first = output.strip().splitlines()[0] if output.strip() else f"exit code {run.returncode}"
        raise ConfigError(
            f"the Spark engine needs Java {need} or newer, but {command} -version failed "
            f"({first}): {hint}"
        )
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_392" is Java 8
        major = int(match.group(2))
    if major < need:
        raise ConfigError(
            f"the Spark engine needs Java {need} or newer, but {command} is Java {major}: {hint}"
        )
    return major


def check_master(master: str) -> str:
    """Check a master URL against the forms Spark runs on before a JVM starts (Spark would
    answer with a Java stack trace).

    Raises:
        ConfigError: ``master`` is none of ``local``, ``local[N]``, ``local[N,F]``,
            ``local-cluster[...]``, ``spark://...``, ``k8s://...`` or ``yarn``.
    """
    if not _MASTER_RE.match(master):
        raise ConfigError(
            f"{master!r} is not a Spark master: give local[N], spark://host:7077, "
            "k8s://https://host:443 or yarn"
        )
    return master


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """A SparkSession for the scan (an active one is reused).

    Args:
        master: The master URL (``local[2]``, ``spark://host:7077``, ``yarn``, ...). None
            leaves it to Spark's own configuration: ``spark-defaults.conf`` under
            ``SPARK_CONF_DIR``, ``MASTER``, ``PYSPARK_SUBMIT_ARGS``, else ``local[*]``.
        conf: Extra Spark properties (``spark.executor.memory``, ...).

    Raises:
        ConfigError: pyspark is not installed, Java is missing or too old, or ``master`` is
            not a Spark master URL.
    """
    if master:
        check_master(master)
    pyspark = import_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    check_java(required_java(pyspark.__version__))
    builder = SparkSession.builder.appName("dedup scan")
    if master:
        builder = builder.master(master)
    settings = {"spark.ui.showConsoleProgress": "false"}
    local = (master or os.environ.get("MASTER") or "local").startswith("local")
    if local and not os.environ.get("PYSPARK_PYTHON"):
        # Local workers run this interpreter (the one dedup is installed in), not any python3.
        settings["spark.pyspark.python"] = sys.executable
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # py4j and Spark raise many types when the JVM cannot start
        raise ConfigError(f"cannot start Spark ({type(exc).__name__}: {exc})") from None


def java_message(exc: Exception) -> str:
    """One line on a Java exception: its own ``toString`` (py4j's first line names only the
    call that failed)."""
    text = str(exc)
    java = getattr(exc, "java_exception", None)
    if java is not None:
        with contextlib.suppress(Exception):  # the JVM may be gone
            text = str(java.toString())
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
