package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gsmgate/gsmgate/config"
	"github.com/gsmgate/gsmgate/gateway/store"
	"golang.org/x/sys/unix"
)

// ConfigFile checks the configuration file at path. A missing file is fine
// when it was not asked for by name (the defaults apply).
func ConfigFile(path string, named bool) Result {
	const check = "configuration"
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !named {
		return ok(check, "no file at %s: the defaults and GSMGATE_* variables apply", path)
	}
	if _, err := config.Check(path); err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			msg := ""
			for i, p := range ps {
				if i > 0 {
					msg += "; "
				}
				msg += p.String()
			}
			return fail(check, "%s: fix the file (`gsmgate config check %s` shows each line)", msg, path)
		}
		return fail(check, "%v", err)
	}
	return ok(check, "%s is valid", path)
}

// DataDir checks the data directory: it exists, the daemon's user may write
// it, nobody else may read it (it holds password hashes and every message),
// and its file system has at least minFree bytes free (warning below
// 4×minFree).
func DataDir(dir string, who Identity, minFree uint64) []Result {
	const check = "data directory"
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []Result{warn(check, "%s does not exist yet; `gsmgate serve` creates it (the package's unit makes it as StateDirectory)", dir)}
	}
	if err != nil {
		return []Result{fail(check, "%v", err)}
	}
	if !fi.IsDir() {
		return []Result{fail(check, "%s is not a directory", dir)}
	}
	var out []Result
	if !who.may(fi, 0o3) { // write and search
		out = append(out, fail(check, "%s (%s) is not writable by %s: run `sudo chown -R %s %s`", dir, describe(fi), who, who.Name, dir))
	} else if fi.Mode().Perm()&0o007 != 0 {
		out = append(out, warn(check, "%s is open to every user (%s): it holds password hashes and every message; run `chmod o-rwx %s`", dir, fi.Mode().Perm(), dir))
	} else {
		out = append(out, ok(check, "%s (%s) is writable by %s and closed to others", dir, describe(fi), who))
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return append(out, warn("free space", "cannot tell: %v", err))
	}
	free := st.Bavail * uint64(st.Bsize)
	switch {
	case free < minFree:
		out = append(out, fail("free space", "only %s free on the file system of %s (at least %s needed): the database cannot grow and sends will fail; delete old backups or logs", human(free), dir, human(minFree)))
	case free < 4*minFree:
		out = append(out, warn("free space", "%s free on the file system of %s: getting low", human(free), dir))
	default:
		out = append(out, ok("free space", "%s free", human(free)))
	}
	return out
}

func human(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	default:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	}
}

// DaemonDB is what Database needs from a running daemon: its own
// consistency check of the database it holds (nil when no daemon answers).
type DaemonDB interface {
	CheckDB(ctx context.Context) ([]string, error)
}

// Database runs bbolt's consistency check on the database at path: through
// the daemon when it runs (it holds the file), else by opening the file
// read-only. A file held by some other process (not a daemon that answers)
// is reported as locked.
func Database(ctx context.Context, path string, daemon DaemonDB) Result {
	const check = "database"
	if daemon != nil {
		problems, err := daemon.CheckDB(ctx)
		if err != nil {
			return fail(check, "the running daemon could not check %s: %v", path, err)
		}
		return dbVerdict(path, problems, " (checked by the running daemon)")
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return warn(check, "%s does not exist yet: it is created when gsmgate serve first starts", path)
	}
	if _, err := store.Inspect(path, 2*time.Second); err != nil {
		switch {
		case errors.Is(err, store.ErrLocked):
			return fail(check, "%s is locked by another process, and no gsmgate daemon answers on the control socket beside it: find it with `fuser -v %s` (a second gsmgate? a copy tool?) and stop it", path, path)
		case errors.Is(err, store.ErrNewerFormat):
			return fail(check, "%s was written by a newer gsmgate than this one: install that version (or restore a backup this one wrote)", path)
		case errors.Is(err, store.ErrNotDatabase):
			return fail(check, "%s is not a gsmgate database (damaged?): restore the latest backup (`gsmgate restore --from FILE`)", path)
		default:
			return fail(check, "%v", err)
		}
	}
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return fail(check, "cannot open %s read-only: %v", path, err)
	}
	defer db.Close()
	errs, err := db.Check(20)
	if err != nil {
		return fail(check, "checking %s: %v", path, err)
	}
	var problems []string
	for _, e := range errs {
		problems = append(problems, e.Error())
	}
	return dbVerdict(path, problems, "")
}

func dbVerdict(path string, problems []string, how string) Result {
	if len(problems) == 0 {
		return ok("database", "%s is consistent%s", path, how)
	}
	return fail("database", "%s is damaged (%d problem(s), first: %s)%s: stop gsmgate and restore the latest backup from %s (`gsmgate restore --from FILE`)",
		path, len(problems), problems[0], how, filepath.Join(filepath.Dir(path), "backups"))
}

// Clock checks the system clock: now must not be before floor (the
// binary's build, or the newest thing the database holds: a Raspberry Pi
// without a real-time clock boots at the time it was shut down, and
// timestamps and retention go wrong until it is set), and the kernel
// should say the clock is synchronised (NTP).
func Clock(now, floor time.Time, synced func() (bool, error)) Result {
	const check = "system clock"
	if now.Before(floor) {
		return fail(check, "the clock says %s, before %s: it is wrong; set it (`timedatectl set-ntp true`, or `date -s`) and check the network reaches an NTP server", now.Format(time.RFC3339), floor.Format("2006-01-02"))
	}
	if synced != nil {
		s, err := synced()
		switch {
		case err != nil:
			return warn(check, "%s; cannot tell whether it is synchronised: %v", now.Format(time.RFC3339), err)
		case !s:
			return warn(check, "%s, but not synchronised with a time server: message times may drift; enable NTP (`timedatectl set-ntp true`)", now.Format(time.RFC3339))
		}
	}
	return ok(check, "%s, synchronised", now.Format(time.RFC3339))
}

// KernelSynced asks the kernel whether the clock is synchronised (adjtimex:
// STA_UNSYNC clear), as timedatectl's "System clock synchronized" does.
func KernelSynced() (bool, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, err
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0, nil
}
