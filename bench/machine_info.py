"""What every benchmark result file records: the processor (model name, AVX2, AVX-512, AMX, cores) and
the versions of what was measured. Figures from one processor are never another's (docs/PERFORMANCE.md)."""
import os
import platform
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def processor():
    info = {"machine": platform.machine(), "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        flags = set(re.search(r"^flags\s*:\s*(.+)$", text, re.M).group(1).split())
        fam = re.search(r"^cpu family\s*:\s*(\d+)$", text, re.M)
        num = re.search(r"^model\s*:\s*(\d+)$", text, re.M)
        if fam and num:
            info["family_model"] = f"{fam.group(1)}/{num.group(1)}"  # e.g. 25/1: AMD Zen 3 (Milan)
        info.update({"model": m.group(1).strip() if m else "unknown", "avx2": "avx2" in flags,
                     "avx512f": "avx512f" in flags, "amx": any(f.startswith("amx") for f in flags)})
    except (OSError, AttributeError):
        pass
    return info


def describe(cpu):
    return (f"{cpu.get('model', 'unknown')} (family/model {cpu.get('family_model', '?')}, AVX2: {cpu.get('avx2')}, AVX-512: {cpu.get('avx512f')}, "
            f"AMX: {cpu.get('amx')}), {cpu.get('cores')} cores")


def _out(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except OSError:
        return ""


def versions(**python_envs):
    """nnlab's commit, oneDNN's and the compiler's versions, and for each named Python interpreter the
    versions of the frameworks it has (python_envs: name -> path of its python)."""
    v = {"nnlab_commit": _out(["git", "rev-parse", "--short", "HEAD"]),
         "onednn": _out(["dpkg-query", "-W", "-f=${Version}", "libdnnl2"]),
         "compiler": (_out(["c++", "--version"]).splitlines() or [""])[0],
         "python": platform.python_version()}
    probe = ("import importlib.metadata as m\n"
             "for p in ('torch', 'tensorflow-cpu', 'tensorflow', 'keras', 'numpy'):\n"
             "    try: print(p, m.version(p))\n"
             "    except m.PackageNotFoundError: pass\n")
    for name, python in python_envs.items():
        if python and os.path.exists(python):
            v[name] = dict(line.split(" ", 1) for line in _out([python, "-c", probe]).splitlines() if " " in line)
    return v
