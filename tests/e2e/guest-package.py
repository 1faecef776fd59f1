#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# The package case of the e2e suite, inside a VM whose PID 1 is Debian's systemd
# (guest-init-systemd.sh with E2E_RUNNER=guest-package.py): the life of the Debian package as an
# administrator lives it, with apt, on a system with bluetoothd (Debian's bluetooth.service,
# btvirt controllers):
#   install   apt-get install ./pairgate_<v>_amd64.deb: the user exists, the unit is enabled,
#             the service is running and registered as the default agent (StatusText), the
#             journal catalog knows its records;
#   edit      /etc/pairgate/pairgate.conf changed by the administrator, reloaded;
#   upgrade   apt-get install ./pairgate_<v+>_amd64.deb (a rebuilt package, higher version): the
#             edited file is kept without a question, the service was restarted (new MainPID)
#             and registered again;
#   remove    apt-get remove pairgate: the service is stopped, the program is gone, the
#             configuration is kept (dpkg: config-files);
#   purge     apt-get purge pairgate: configuration, state directory, user and group are gone.
# Every command, its exit status and output go to record-package.json in the results directory;
# run-e2e judges them (e2e_package.py). Only the standard library: this runs as a plain unit.
import json
import os
import subprocess
import sys
import time
import traceback

RES = sys.argv[1]
PLAN = json.load(open(os.path.join(RES, "plan.json")))
SHOW = "ActiveState,SubState,StatusText,MainPID,NRestarts,UnitFileState,LoadState,Result,User"
CONF = "/etc/pairgate/pairgate.conf"
# apt without repositories: the VM has no network and everything the package depends on is
# installed already (the test machine's root). Without this, apt parses every package list of
# the machine at each call, which takes minutes under TCG.
APT_DIR = "/run/e2e-apt"
APT = ["apt-get", "-o", "Dir::Etc::SourceList=%s/sources.list" % APT_DIR,
       "-o", "Dir::Etc::SourceParts=%s/sources.list.d" % APT_DIR, "-o", "Dir::State::Lists=%s/lists" % APT_DIR,
       "-y", "-q"]
EDITED = ('# edited by the administrator (e2e package case)\ncapability = "DisplayYesNo";\n'
          'request_timeout = 20;\nroutes = {\n  RequestConfirmation = [ "allowlist" ];\n'
          '  RequestAuthorization = [ "allowlist" ];\n};\n'
          'allowlist = {\n  devices = [ "AA:BB:CC:DD:EE:FF" ];\n};\n')


def log(msg):
    print("package: " + msg, flush=True)


def uptime():
    return float(open("/proc/uptime").read().split()[0])


class Package:
    def __init__(self):
        self.rec = {"id": "package", "steps": [], "facts": {}, "plan": PLAN}

    def save(self):
        with open(os.path.join(RES, "record-package.json"), "w") as f:
            json.dump(self.rec, f, indent=1)

    def step(self, name, cmd, timeout=120):
        t = time.monotonic()
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LANG="C.UTF-8")
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=timeout, env=env)
            rc, out = p.returncode, p.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            rc, out = "timeout", "timed out after %ss: %s" % (timeout, (e.output or b"").decode("utf-8", "replace"))
        except OSError as e:
            rc, out = "oserror", str(e)
        self.rec["steps"].append({"name": name, "cmd": " ".join(cmd), "rc": rc, "s": round(time.monotonic() - t, 2),
                                  "out": out[-5000:]})
        log("step %-34s rc=%s %.1fs" % (name, rc, time.monotonic() - t))
        self.save()
        return rc, out

    def show(self, name):
        rc, out = self.step(name, ["systemctl", "show", "-p", SHOW, "pairgate"])
        return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)

    def wait_registered(self, name, timeout=45):
        t = time.monotonic()
        while time.monotonic() - t < timeout:
            p = subprocess.run(["systemctl", "show", "-p", "StatusText", "--value", "pairgate"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if p.stdout.decode().startswith("Registered as default agent"):
                break
            time.sleep(0.5)
        self.rec["facts"][name + "_registered_after_s"] = round(time.monotonic() - t, 2)
        return self.show("show after " + name)

    def state(self, name):
        """What is on disk and in the user database, for the judge."""
        f = {}
        f["dpkg"] = self.step(name + ": dpkg status", ["dpkg-query", "-W", "-f=${Status} ${Version}", "pairgate"])[1]
        f["passwd"] = self.step(name + ": getent passwd", ["getent", "passwd", "pairgate"])[1].strip()
        f["group"] = self.step(name + ": getent group", ["getent", "group", "pairgate"])[1].strip()
        f["conf"] = open(CONF).read() if os.path.exists(CONF) else None
        f["etc_dir"] = sorted(os.listdir("/etc/pairgate")) if os.path.isdir("/etc/pairgate") else None
        f["state_dir"] = os.path.isdir("/var/lib/pairgate")
        f["binary"] = os.path.exists("/usr/sbin/pairgated")
        f["unit_file"] = os.path.exists("/lib/systemd/system/pairgate.service")
        f["procs"] = self.step(name + ": pgrep", ["pgrep", "-a", "-x", "pairgated"])[1].strip()
        self.rec["facts"][name] = f
        self.save()
        return f

    def run(self):
        os.makedirs(APT_DIR + "/sources.list.d", exist_ok=True)
        os.makedirs(APT_DIR + "/lists/partial", exist_ok=True)
        open(APT_DIR + "/sources.list", "w").close()
        f = self.rec["facts"]
        f["pid1"] = open("/proc/1/comm").read().strip()
        f["uptime_at_runner"] = uptime()
        # The VM's root is the test machine's (read-only, with a tmpfs overlay). A pairgate
        # installed there (tools/install.sh ran before the tests) is purged first, inside the
        # overlay only; a chroot's policy-rc.d (tools/fresh-debian-check.sh) would stop the
        # maintainer scripts from starting the service, as it does in that chroot: a booted
        # system has none.
        rc, out = self.step("pre: dpkg status", ["dpkg-query", "-W", "-f=${Status}", "pairgate"])
        if "installed" in out or "config-files" in out:
            self.step("pre: purge the machine's pairgate", APT + ["purge", "pairgate"])
            f["purged_first"] = True
        if os.path.exists("/usr/sbin/policy-rc.d"):
            os.unlink("/usr/sbin/policy-rc.d")
            f["removed_policy_rc_d"] = True
        # man-db's trigger rebuilds the whole manual index at every install, upgrade and remove:
        # about 100 s each under TCG (measured), three times a run, and nothing this case judges.
        # Off in the overlay only, as `dpkg-reconfigure man-db` with auto-update false does. The
        # pages themselves are checked by package/deb-lintian.
        if os.path.exists("/var/lib/man-db/auto-update"):
            os.unlink("/var/lib/man-db/auto-update")
            f["man_db_auto_update_off"] = True
        # bluetoothd with controllers, as on a device (udev starts bluetooth.service on hci0).
        self.step("modprobe hci_vhci", ["modprobe", "hci_vhci"])
        self.step("btvirt unit", ["systemd-run", "--unit=e2e-btvirt", "--service-type=exec", "/usr/bin/btvirt",
                                  "-L", "-l2"])
        self.step("enable --now bluetooth", ["systemctl", "enable", "--now", "bluetooth"], timeout=90)
        self.step("bluetooth active", ["systemctl", "is-active", "bluetooth"])

        # 1. install
        self.step("install", APT + ["install", "--no-install-recommends", PLAN["deb"]], timeout=300)
        f["show_install"] = self.wait_registered("install")
        self.step("is-enabled", ["systemctl", "is-enabled", "pairgate"])
        pid = f["show_install"].get("MainPID", "0")
        self.step("main process", ["ps", "-o", "user=,args=", "-p", pid])
        self.step("conffiles", ["dpkg-query", "-W", "-f=${Conffiles}", "pairgate"])
        self.step("catalog", ["journalctl", "-x", "-u", "pairgate", "--no-pager"])
        self.state("after_install")

        # 2. the administrator edits the configuration and reloads
        with open(CONF, "w") as fd:
            fd.write(EDITED)
        self.step("check-config", ["pairgated", "--check-config"])
        self.step("reload", ["systemctl", "reload", "pairgate"])
        time.sleep(1)
        f["show_edited"] = self.show("show after edit")

        # 3. upgrade to a rebuilt package with a higher version
        self.step("upgrade", APT + ["install", "--no-install-recommends", PLAN["deb_upgrade"]], timeout=300)
        f["show_upgrade"] = self.wait_registered("upgrade")
        self.state("after_upgrade")
        self.step("journal", ["journalctl", "-u", "pairgate", "-o", "json", "--no-pager"])

        # 4. remove
        self.step("remove", APT + ["remove", "pairgate"], timeout=300)
        f["show_remove"] = self.show("show after remove")
        self.state("after_remove")

        # 5. purge
        self.step("purge", APT + ["purge", "pairgate"], timeout=300)
        self.state("after_purge")
        self.step("failed units", ["systemctl", "--failed", "--no-pager"])
        f["uptime_end"] = uptime()


def main():
    r = Package()
    status = 0
    try:
        r.run()
    except Exception:
        traceback.print_exc()
        r.rec["error"] = traceback.format_exc()
        status = 2
    finally:
        r.save()
        subprocess.run(["sh", "-c", "journalctl -b --no-pager > %s/journal-all.txt" % RES], timeout=60)
    log("package case done (status %d)" % status)
    return status


if __name__ == "__main__":
    sys.exit(main())
