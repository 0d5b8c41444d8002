package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/gsmgate/gsmgate/modem"
)

// ModemProbe talks to the modem at cfg.Port (without entering a PIN or
// changing its settings; modem.Probe) and reports what it found. Do not
// call it on a port the daemon holds: use ModemStatus with the daemon's
// view instead.
func ModemProbe(ctx context.Context, cfg modem.Config, log *slog.Logger) []Result {
	info, h, err := modem.Probe(ctx, cfg, log)
	return modemFindings("modem "+cfg.Port, info, h, err)
}

// ModemStatus reports a modem as the running daemon sees it.
func ModemStatus(st modem.Status) []Result {
	check := "modem " + st.Info.Port
	var err error
	switch st.State {
	case modem.StateFailed, modem.StateDisconnected, modem.StateRecovering, modem.StateOpening:
		err = fmt.Errorf("%s: %s", st.State, st.Reason)
	}
	out := modemFindings(check, st.Info, st.Health, err)
	if err == nil {
		out = append([]Result{ok(check, "the daemon runs it: %s", st.State)}, out...)
	}
	return out
}

// modemFindings turns what a probe learned into findings: the answer to
// AT, the SIM, registration, signal, the service centre and storage.
func modemFindings(check string, info modem.Info, h modem.Health, err error) []Result {
	var out []Result
	switch {
	case err == nil:
	case errors.Is(err, modem.ErrNotAModem), errors.Is(err, context.DeadlineExceeded):
		return []Result{fail(check, "does not answer AT commands: it may not be the modem's AT port (a modem has several ttyUSB ports; try the others, or `gsmgate modems`), or the modem is hung (unplug it for ten seconds). (%v)", err)}
	case errors.Is(err, modem.ErrPortBusy):
		return []Result{fail(check, "another program holds the port (see the port's finding above). (%v)", err)}
	case errors.Is(err, fs.ErrPermission):
		return []Result{fail(check, "no permission to open the port (see the port's finding above). (%v)", err)}
	case errors.Is(err, modem.ErrNoSIM):
		return []Result{answers(check, info), fail(check+" SIM", "no SIM card inserted (or not seated): power off, insert the SIM, power on")}
	case errors.Is(err, modem.ErrPINRequired), errors.Is(err, modem.ErrWrongPIN):
		return []Result{answers(check, info), fail(check+" SIM", "the SIM asks for its PIN and gsmgate enters none: turn the PIN lock off (put the SIM in a phone: Settings, SIM lock), then restart gsmgate")}
	case errors.Is(err, modem.ErrPUKRequired):
		return []Result{answers(check, info), fail(check+" SIM", "the SIM is blocked after wrong PINs and needs its PUK (from the operator): unblock it in a phone")}
	case errors.Is(err, modem.ErrSIMFailure), errors.Is(err, modem.ErrSIMLocked):
		return []Result{answers(check, info), fail(check+" SIM", "the SIM does not work (%v): try it in a phone; ask the operator for a new one", err)}
	default:
		if info.IMEI == "" {
			return []Result{fail(check, "%v", err)}
		}
		out = append(out, answers(check, info), fail(check, "%v", err))
		return out
	}
	out = append(out, answers(check, info))
	if h.SIM == modem.SIMReady {
		out = append(out, ok(check+" SIM", "ready (ICCID %s)", orUnknown(info.ICCID)))
	}
	switch {
	case h.Registration.Registered():
		out = append(out, ok(check+" network", "registered (%s) on %s", h.Registration, orUnknown(h.Operator)))
	case h.Registration == modem.RegDenied:
		out = append(out, fail(check+" network", "registration denied: the SIM is not activated, out of credit or not allowed here (roaming); ask the operator"))
	default:
		out = append(out, fail(check+" network", "not registered (%s): check the antenna is attached and the SIM's operator covers this place; a new SIM can take a few minutes", h.Registration))
	}
	switch {
	case !h.Signal.Known():
		out = append(out, warn(check+" signal", "the modem cannot measure the signal (no antenna? no network?)"))
	case h.Signal.Bars <= 1:
		out = append(out, warn(check+" signal", "weak: %d dBm (%d of 4 bars): sends may fail; attach or move the antenna", h.Signal.DBm, h.Signal.Bars))
	default:
		out = append(out, ok(check+" signal", "%d dBm (%d of 4 bars)", h.Signal.DBm, h.Signal.Bars))
	}
	if info.SMSC == "" {
		out = append(out, fail(check+" service centre", "the SIM names no SMS service centre: every send fails (+CMS ERROR 330); ask the operator for its number and store it on the SIM with AT+CSCA=\"+...\" (or put the SIM in a phone, which sets it)"))
	} else {
		out = append(out, ok(check+" service centre", "%s", info.SMSC))
	}
	switch {
	case info.StorageTotal == 0:
	case info.StorageUsed >= info.StorageTotal:
		out = append(out, fail(check+" storage", "the message storage is full (%d of %d): the modem stops announcing new messages; start gsmgate serve, which reads and deletes them, or delete them with a phone", info.StorageUsed, info.StorageTotal))
	case info.StorageUsed*5 >= info.StorageTotal*4:
		out = append(out, warn(check+" storage", "%d of %d messages stored: nearly full", info.StorageUsed, info.StorageTotal))
	default:
		out = append(out, ok(check+" storage", "%d of %d messages stored", info.StorageUsed, info.StorageTotal))
	}
	return out
}

func answers(check string, info modem.Info) Result {
	return ok(check, "answers AT: %s %s, IMEI %s", orUnknown(info.Manufacturer), info.Model, orUnknown(info.IMEI))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
