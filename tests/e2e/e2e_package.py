# SPDX-License-Identifier: MIT
#
# The package case of run-e2e: the Debian package installed, edited, upgraded, removed and purged
# with apt in a VM whose PID 1 is Debian's systemd (guest-package.py inside). This side builds
# the two packages (tools/build-deb.sh: the version of CMakeLists.txt, then the same tree with a
# higher version) unless run-e2e was given them (--deb, --deb-upgrade), boots the VM, and judges
# record-package.json.
import json
import os
import re
import subprocess
import time

PACKAGE_CHECKS = ["package/install-running-registered", "package/upgrade-keeps-config-restarts",
                  "package/remove-stops-keeps-config", "package/purge-removes-all"]


def build_debs(args, res, info):
    """(deb, deb_upgrade, error): the two packages, built here unless given."""
    if args.deb and args.deb_upgrade:
        return os.path.abspath(args.deb), os.path.abspath(args.deb_upgrade), None
    out = os.path.join(res, "package", "debs")
    os.makedirs(out, exist_ok=True)
    script = os.path.join(args.source_dir, "tools", "build-deb.sh")
    debs = []
    for suffix in ([], ["--version-suffix", "+e2e1"]):
        t = time.monotonic()
        p = subprocess.run([script, "--no-deps", "--out", out] + suffix, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        text = p.stdout.decode("utf-8", "replace")
        with open(os.path.join(out, "build-deb%s.log" % ("-upgrade" if suffix else "")), "w") as f:
            f.write(text)
        if p.returncode != 0:
            return None, None, "tools/build-deb.sh %s failed (exit %s): %s" % (
                " ".join(suffix), p.returncode, text.strip().splitlines()[-1] if text.strip() else "")
        debs.append(text.strip().splitlines()[-1])
        info("e2e: package: built %s in %.0fs" % (os.path.basename(debs[-1]), time.monotonic() - t))
    return debs[0], debs[1], None


def missing_tools():
    return [t for t in ("/lib/systemd/systemd", "/usr/bin/dpkg-buildpackage", "/usr/bin/dh", "/usr/bin/apt-get",
                        "/usr/bin/systemd-run") if not os.path.exists(t)]


def run_package_vm(args, res, info, preflight, build_initramfs, boot):
    kver, vmlinuz = preflight(args)
    pres = os.path.join(res, "package")
    os.makedirs(pres, exist_ok=True)
    deb, deb_up, err = build_debs(args, res, info)
    if err:
        json.dump({"error": err}, open(os.path.join(pres, "record-package.json"), "w"))
        return "build-failed", 0.0
    plan = {"mode": "package", "deb": deb, "deb_upgrade": deb_up}
    json.dump(plan, open(os.path.join(pres, "plan.json"), "w"), indent=1)
    initrd = os.path.join(res, "initramfs.cpio")
    if not os.path.exists(initrd):
        build_initramfs(kver, initrd)
    info("e2e: package VM (systemd as PID 1; apt installs %s, upgrades to %s, removes, purges), results in %s" % (
        os.path.basename(deb), os.path.basename(deb_up), pres))
    rc, t = boot(args, kver, vmlinuz, initrd, pres, init="guest-init-systemd.sh", mem=args.systemd_mem,
                 vm_timeout=args.package_timeout, prefix="pk| ",
                 extra_append=" systemd.show_status=error E2E_RUNNER=guest-package.py")
    if rc in (124, 137):
        info("e2e: the package VM hit the %ds timeout and was killed (--package-timeout)" % args.package_timeout)
    return rc, t


def version_of(deb):
    m = re.match(r"pairgate_([^_]+)_", os.path.basename(deb or ""))
    return m.group(1) if m else None


def judge_package(args, res, pk_rc):
    """[(check id, ok, [details])] from the package VM's record."""
    pres = os.path.join(res, "package")
    try:
        rec = json.load(open(os.path.join(pres, "record-package.json")))
    except (OSError, ValueError) as e:
        why = "no record from the package VM (%s); see %s/console.log" % (e, pres)
        return [(c, False, [why]) for c in PACKAGE_CHECKS]
    if "steps" not in rec:
        return [(c, False, [rec.get("error", "no steps recorded")]) for c in PACKAGE_CHECKS]
    st = {s["name"]: s for s in rec["steps"]}
    f = rec.get("facts", {})
    plan = rec.get("plan", {})
    v1, v2 = version_of(plan.get("deb")), version_of(plan.get("deb_upgrade"))
    common = []
    if rec.get("error"):
        common.append("runner error: " + rec["error"].strip().splitlines()[-1])
    out = []

    def step_ok(name, det, want_rc=0):
        s = st.get(name)
        if s is None:
            det.append("`%s` was not run" % name)
            return False
        if s["rc"] != want_rc:
            det.append("`%s` exited %s: %s" % (s["cmd"], s["rc"], s["out"].strip()[-800:]))
            return False
        return True

    def check(cid, ok, det):
        out.append((cid, ok, common + det if not ok else det))

    def show_text(sh):
        return " ".join("%s=%s" % (k, sh.get(k)) for k in ("ActiveState", "SubState", "MainPID", "UnitFileState",
                                                          "StatusText", "LoadState"))

    # 1. install: apt-get install ./deb; user, enabled, running as pairgate, registered, catalog
    det = []
    ok = f.get("pid1") == "systemd"
    det.append("PID 1 is %r%s%s" % (f.get("pid1"), "; the machine's own pairgate was purged first (overlay)"
                                     if f.get("purged_first") else "",
                                     "; policy-rc.d removed (a chroot's)" if f.get("removed_policy_rc_d") else ""))
    ok = step_ok("install", det) and ok
    ai = f.get("after_install", {})
    sh = f.get("show_install", {})
    det.append("apt-get install ./%s: %s" % (os.path.basename(plan.get("deb", "?")), ai.get("dpkg")))
    if ai.get("dpkg") != "install ok installed %s" % v1:
        ok = False
        det.append("expected dpkg status 'install ok installed %s'" % v1)
    if not ai.get("passwd", "").startswith("pairgate:"):
        ok = False
        det.append("no user pairgate (getent: %r)" % ai.get("passwd"))
    else:
        det.append("user: %s" % ai["passwd"])
    det.append("after install (%ss): %s" % (f.get("install_registered_after_s"), show_text(sh)))
    if not (sh.get("ActiveState") == "active" and sh.get("SubState") == "running" and sh.get("UnitFileState") == "enabled"
            and sh.get("StatusText", "").startswith("Registered as default agent")):
        ok = False
        det.append("expected active/running, enabled, StatusText 'Registered as default agent ...'")
    mp = st.get("main process", {}).get("out", "").split()
    if not mp or mp[0] != "pairgate":
        ok = False
        det.append("the main process does not run as user pairgate: %r" % " ".join(mp))
    if not ai.get("state_dir"):
        ok = False
        det.append("no /var/lib/pairgate (StateDirectory=) while running")
    cf = st.get("conffiles", {}).get("out", "")
    if "/etc/pairgate/pairgate.conf" not in cf:
        ok = False
        det.append("/etc/pairgate/pairgate.conf is not a conffile: %r" % cf)
    cat = st.get("catalog", {}).get("out", "")
    hit = next((l.strip() for l in cat.splitlines() if "Subject: pairgate registered as the default Bluetooth agent" in l),
               None)
    if hit:
        det.append("journalctl -x (catalog updated by the package): %s" % hit[:120])
    else:
        ok = False
        det.append("journalctl -x -u pairgate lacks the catalog's 'registered' subject: the catalog was not updated")
    check("package/install-running-registered", ok, det)

    # 2. upgrade: the edited file survives without a question; restarted; registered again
    det = []
    ok = step_ok("check-config", det)
    ok = step_ok("upgrade", det) and ok
    au = f.get("after_upgrade", {})
    se, su = f.get("show_edited", {}), f.get("show_upgrade", {})
    det.append("apt-get install ./%s: %s" % (os.path.basename(plan.get("deb_upgrade", "?")), au.get("dpkg")))
    if au.get("dpkg") != "install ok installed %s" % v2 or v1 == v2:
        ok = False
        det.append("expected 'install ok installed %s' (a higher version than %s)" % (v2, v1))
    from_rec = st.get("upgrade", {}).get("out", "")
    m = re.search(r"Preparing to unpack .*\n?Unpacking pairgate \(([^)]*)\) over \(([^)]*)\)", from_rec)
    if m:
        det.append("dpkg: Unpacking pairgate (%s) over (%s)" % (m.group(1), m.group(2)))
    if au.get("conf") is None or "edited by the administrator" not in au.get("conf", ""):
        ok = False
        det.append("the edited /etc/pairgate/pairgate.conf did not survive the upgrade")
    else:
        det.append("the edited configuration survived (no conffile question, no .dpkg-* copy: %s)" % au.get("etc_dir"))
    if "Configuration file '/etc/pairgate/pairgate.conf'" in from_rec:
        ok = False
        det.append("dpkg asked about the conffile")
    det.append("before: MainPID=%s; after: %s" % (se.get("MainPID"), show_text(su)))
    if not (su.get("ActiveState") == "active" and su.get("MainPID") not in (None, "0", se.get("MainPID"))
            and su.get("StatusText", "").startswith("Registered as default agent")):
        ok = False
        det.append("expected a new MainPID (restarted), active, registered again")
    check("package/upgrade-keeps-config-restarts", ok, det)

    # 3. remove: stopped, program gone, configuration kept
    det = []
    ok = step_ok("remove", det)
    ar = f.get("after_remove", {})
    sr = f.get("show_remove", {})
    det.append("after apt-get remove: dpkg %r; %s; pairgated processes: %r" % (ar.get("dpkg"), show_text(sr),
                                                                                ar.get("procs")))
    if not (ar.get("dpkg", "").startswith("deinstall ok config-files")):
        ok = False
        det.append("expected dpkg status 'deinstall ok config-files'")
    if sr.get("ActiveState") not in ("inactive", None) or ar.get("procs"):
        ok = False
        det.append("the service is still running")
    if ar.get("binary") or ar.get("unit_file"):
        ok = False
        det.append("program or unit file left: binary=%s unit=%s" % (ar.get("binary"), ar.get("unit_file")))
    if "edited by the administrator" not in (ar.get("conf") or ""):
        ok = False
        det.append("the configuration was not kept on remove")
    else:
        det.append("configuration kept: /etc/pairgate/%s" % ar.get("etc_dir"))
    check("package/remove-stops-keeps-config", ok, det)

    # 4. purge: configuration, state, user and group gone
    det = []
    ok = step_ok("purge", det)
    ap = f.get("after_purge", {})
    det.append("after apt-get purge: dpkg %r, /etc/pairgate %s, /var/lib/pairgate %s, passwd %r, group %r" % (
        ap.get("dpkg"), ap.get("etc_dir"), "exists" if ap.get("state_dir") else "gone", ap.get("passwd"),
        ap.get("group")))
    if ap.get("etc_dir") is not None or ap.get("state_dir") or ap.get("passwd") or ap.get("group"):
        ok = False
        det.append("expected /etc/pairgate, /var/lib/pairgate, the user and the group gone")
    if "installed" in (ap.get("dpkg") or "") or "config-files" in (ap.get("dpkg") or ""):
        ok = False
        det.append("dpkg still knows the package")
    check("package/purge-removes-all", ok, det)
    if pk_rc not in (0, None):
        out = [(c, ok, det + ["the package VM: qemu exited with %s" % pk_rc]) for c, ok, det in out]
    return out
