package gateway

import (
	"strings"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// HealthIssue is one thing wrong with a modem, said so that the office
// admin knows what to do without reading AT commands.
type HealthIssue struct {
	// Code names the issue for tests and styling: sim_pin, sim_puk,
	// no_sim, not_registered, denied, roaming, weak_signal, storage_full,
	// no_smsc, port_busy, disconnected, failed.
	Code string
	// Severity is "error" (no SMS goes through this modem) or "warning"
	// (SMS go, but something may cost or fail).
	Severity string
	Problem  string
	Action   string
}

// WeakSignalDBm is the signal below which sends and reports start to fail
// (about one bar).
const WeakSignalDBm = -100

// DiagnoseModem reads a modem's status into plain-word issues, most
// serious first; none when it is healthy.
func DiagnoseModem(m model.ModemStatus) []HealthIssue {
	var out []HealthIssue
	add := func(code, sev, problem, action string) {
		out = append(out, HealthIssue{Code: code, Severity: sev, Problem: problem, Action: action})
	}
	last := strings.ToLower(m.LastError)
	switch {
	case strings.Contains(last, "port busy") || strings.Contains(last, "modemmanager"):
		add("port_busy", "error", "Another program holds the modem's port (usually ModemManager).",
			"Install gsmgate's udev rule (ID_MM_DEVICE_IGNORE=1) and reconnect the modem, or stop ModemManager: sudo systemctl disable --now ModemManager.")
	case m.State == "disconnected":
		add("disconnected", "error", "The modem is unplugged or its USB link was lost.",
			"Check the cable and the USB hub's power; gsmgate finds the modem again by its IMEI when it comes back.")
	}
	switch strings.ToUpper(m.SIM) {
	case "SIM PIN":
		add("sim_pin", "error", "The SIM asks for its PIN.",
			"Put the SIM in a phone, turn the SIM PIN lock off, and put it back (gsmgate's configuration has no PIN setting yet).")
	case "SIM PUK":
		add("sim_puk", "error", "The SIM is locked after wrong PINs and asks for its PUK.",
			"Unlock it in a phone with the PUK from the operator, then put it back.")
	case "NOT INSERTED":
		add("no_sim", "error", "No SIM card is inserted.", "Switch off, insert the SIM, and reconnect the modem.")
	}
	reg := strings.ToLower(m.Registration)
	switch {
	case reg == "denied":
		add("denied", "error", "The network refused the SIM.",
			"Call the operator: the SIM may be blocked, unpaid, or not activated.")
	case reg == "roaming":
		add("roaming", "warning", "The SIM is roaming on "+orUnknown(m.Operator)+".",
			"Check the SIM's operator and prices; roaming SMS may cost more or be blocked.")
	case !m.Registered && len(out) == 0:
		// Not registered for a reason found above (no SIM, PIN, port,
		// unplugged) says nothing more.
		add("not_registered", "error", "The modem is not registered on a network ("+orUnknown(m.Registration)+").",
			"Check the antenna and the coverage where the modem is; move it near a window.")
	}
	if m.Registered && m.SignalDBm != 0 && m.SignalDBm < WeakSignalDBm {
		add("weak_signal", "warning", "The signal is too weak ("+itoa(m.SignalDBm)+" dBm).",
			"Fit an external antenna or move the modem; below -100 dBm sends and delivery reports start to fail.")
	}
	if strings.Contains(last, "memory full") || strings.Contains(last, "memory capacity exceeded") || strings.Contains(last, "storage full") {
		add("storage_full", "error", "The SIM's message storage is full: new SMS are not announced.",
			"gsmgate reads and deletes stored messages at start; restart the service, or clear the SIM in a phone.")
	}
	if m.State == "ready" && m.SMSC == "" {
		add("no_smsc", "warning", "The SIM names no service centre (SMSC).",
			"Put the SIM in a phone and set its message centre number (from the operator's help page), then put it back.")
	}
	if len(out) == 0 && m.State == "failed" {
		add("failed", "error", "The modem needs attention: "+orUnknown(m.LastError)+".", "Read the log (journalctl -u gsmgate) and reconnect the modem.")
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func itoa(n int) string {
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
