package doctor

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Process is a process holding a file open.
type Process struct {
	PID  int
	Name string // from /proc/<pid>/comm
}

// Holders lists the processes other than this one that have the file at
// path open, by reading every /proc/<pid>/fd link (processes this user may
// not inspect are skipped: run as root to see them all).
func Holders(path string) ([]Process, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var out []Process
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && target == real {
				name, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				out = append(out, Process{PID: pid, Name: strings.TrimSpace(string(name))})
				break
			}
		}
	}
	return out, nil
}

// Port checks a serial port: it exists, who may open it, and whether a
// program other than the gsmgate daemon (daemonPID, 0 when not running)
// holds it. tcp:// addresses are not files and get no finding.
func Port(path string, who Identity, daemonPID int) []Result {
	if strings.HasPrefix(path, "tcp://") {
		return nil
	}
	check := "port " + path
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Result{fail(check, "does not exist: is the modem plugged in? `ls -l /dev/serial/by-id/` lists the serial ports present")}
	}
	if err != nil {
		return []Result{fail(check, "%v", err)}
	}
	var out []Result
	if fi.Mode()&fs.ModeCharDevice == 0 {
		out = append(out, warn(check, "is not a character device (%s): a modem port is /dev/ttyUSB*, /dev/ttyACM* or a /dev/serial/by-id link", fi.Mode().Type()))
	}
	if who.may(fi, 0o6) {
		out = append(out, ok(check, "%s may open it (%s)", who, describe(fi)))
	} else {
		grp := "dialout"
		if st := describe(fi); strings.Contains(st, "group ") {
			grp = strings.Fields(st[strings.Index(st, "group ")+6:])[0]
			grp = strings.TrimSuffix(grp, ",")
		}
		out = append(out, fail(check, "%s may not open it (%s): add the user to that group (`sudo usermod -aG %s %s`, then restart gsmgate), or install the package's udev rule, which gives modem ports group dialout", who, describe(fi), grp, who.Name))
	}
	holders, err := Holders(path)
	if err != nil {
		return append(out, warn(check, "cannot tell which programs hold it: %v", err))
	}
	for _, h := range holders {
		switch {
		case daemonPID != 0 && h.PID == daemonPID:
			out = append(out, ok(check, "in use by the gsmgate daemon (pid %d)", h.PID))
		case strings.HasPrefix(strings.ToLower(h.Name), "modemmanager"):
			out = append(out, fail(check, "ModemManager (pid %d) holds it and talks to the modem behind gsmgate's back: install gsmgate's udev rule (/usr/lib/udev/rules.d/70-gsmgate.rules marks modems ID_MM_DEVICE_IGNORE) and run `sudo udevadm trigger`, or `sudo systemctl disable --now ModemManager`", h.PID))
		default:
			out = append(out, fail(check, "%s (pid %d) holds it: the modem answers one program at a time; stop that program (`sudo kill %d`) if it is not meant to use the modem", h.Name, h.PID, h.PID))
		}
	}
	return out
}
