package modem

import (
	"context"
	"errors"
	"fmt"

	"github.com/gsmgate/gsmgate/modem/at"
)

// Errors Open and the Pool report when a modem cannot be used. They are
// conditions a person has to fix (insert a SIM, correct the PIN); the Pool
// reports them and retries only slowly, and never re-enters a rejected PIN.
var (
	ErrNoSIM       = errors.New("modem: no SIM card inserted")
	ErrSIMFailure  = errors.New("modem: SIM card failure")
	ErrPINRequired = errors.New("modem: SIM is locked with a PIN and no PIN is configured")
	ErrWrongPIN    = errors.New("modem: SIM rejected the configured PIN (not retried: fix the PIN in the configuration)")
	ErrPUKRequired = errors.New("modem: SIM is blocked and needs its PUK")
	ErrSIMLocked   = errors.New("modem: SIM is locked")
	ErrNoNetwork   = errors.New("modem: not registered to a network")
	ErrNotAModem   = errors.New("modem: port does not answer AT commands")
	ErrPortBusy    = errors.New("modem: port is in use by another program")
	ErrClosed      = errors.New("modem: closed")
	ErrNotReady    = errors.New("modem: not ready")
)

// Class says what a caller should do about a failed send.
type Class int

const (
	// Temporary: the part was not sent; retry later, possibly on another modem.
	Temporary Class = iota
	// Permanent: the network or the modem refused this message; retrying will not help.
	Permanent
	// Unknown: the command may or may not have reached the network (a timeout or a
	// link loss after the PDU was written). Resending risks a duplicate.
	Unknown
)

func (c Class) String() string {
	switch c {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	default:
		return "unknown"
	}
}

// SendError is the error SendPart returns. It wraps the cause (an
// *at.CMSError, at.ErrTimeout, ...), so errors.As and errors.Is keep working.
type SendError struct {
	Class  Class
	Code   int    // the +CMS/+CME ERROR code, or -1
	Reason string // in words, for a person
	Err    error
}

func (e *SendError) Error() string {
	if e.Code >= 0 {
		return fmt.Sprintf("modem: send: %s failure (code %d): %s", e.Class, e.Code, e.Reason)
	}
	return fmt.Sprintf("modem: send: %s failure: %s", e.Class, e.Reason)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsTemporary reports whether a send error says "try again later": the part
// was certainly not accepted by the network.
func IsTemporary(err error) bool { return Classify(err) == Temporary }

// IsPermanent reports whether retrying the same part is pointless.
func IsPermanent(err error) bool { return Classify(err) == Permanent }

// Classify returns the class of any error from SendPart (or of a raw
// *at.CMSError). An error it does not recognise is Unknown: the safe answer
// when a duplicate SMS is worse than a late one.
func Classify(err error) Class {
	var se *SendError
	if errors.As(err, &se) {
		return se.Class
	}
	return classifyCause(err).Class
}

// classifyCause turns an engine error from +CMGS into a SendError.
func classifyCause(err error) *SendError {
	var cms *at.CMSError
	var cme *at.CMEError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cms):
		c := cmsClass(cms.Code)
		reason := cms.Text
		if reason == "" {
			reason = at.CMSMeaning(cms.Code)
		}
		return &SendError{Class: c, Code: cms.Code, Reason: reason, Err: err}
	case errors.As(err, &cme):
		// +CME errors on +CMGS are about the ME or SIM, never the message.
		return &SendError{Class: Temporary, Code: cme.Code, Reason: cme.Text, Err: err}
	case errors.Is(err, ErrNotReady), errors.Is(err, at.ErrNotSupported):
		return &SendError{Class: Temporary, Code: -1, Reason: err.Error(), Err: err}
	case errors.Is(err, at.ErrError):
		// A plain ERROR to +CMGS means the modem refused the command itself
		// (before any network exchange): not sent.
		return &SendError{Class: Temporary, Code: -1, Reason: "modem answered ERROR", Err: err}
	case errors.Is(err, at.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return &SendError{Class: Unknown, Code: -1, Reason: "no answer from the modem in time; the part may have been sent", Err: err}
	case errors.Is(err, at.ErrClosed), errors.Is(err, ErrClosed):
		return &SendError{Class: Unknown, Code: -1, Reason: "link to the modem lost during the send; the part may have been sent", Err: err}
	default:
		return &SendError{Class: Unknown, Code: -1, Reason: err.Error(), Err: err}
	}
}

// permanentCMS are the +CMS ERROR codes after which resending the same part
// cannot succeed: the recipient does not exist or is barred, or the PDU itself
// is unacceptable. Codes are RP causes (TS 24.011 E.2, 0-127), TP-FCS values
// (TS 23.040 9.2.3.22, 128-255) and ME/network codes (TS 27.005 3.2.5, 300-).
// Everything else (network busy or out of order, congestion, SIM busy, memory
// full, no service, manufacturer codes like 500) is temporary: the problem is
// the modem, the SIM or the network at this moment, not the message.
var permanentCMS = map[int]bool{
	1:   true, // unassigned (unallocated) number
	8:   true, // operator determined barring
	10:  true, // call barred
	21:  true, // short message transfer rejected
	28:  true, // unidentified subscriber
	29:  true, // facility rejected
	30:  true, // unknown subscriber
	50:  true, // requested facility not subscribed
	69:  true, // requested facility not implemented
	95:  true, // invalid message, unspecified
	96:  true, // invalid mandatory information
	97:  true, // message type non-existent or not implemented
	99:  true, // information element non-existent or not implemented
	128: true, // telematic interworking not supported
	129: true, // short message type 0 not supported
	130: true, // cannot replace short message
	143: true, // unspecified TP-PID error
	144: true, // data coding scheme not supported
	145: true, // message class not supported
	159: true, // unspecified TP-DCS error
	160: true, // command cannot be actioned
	161: true, // command unsupported
	175: true, // unspecified TP-Command error
	176: true, // TPDU not supported
	193: true, // no SC subscription
	195: true, // invalid SME address
	196: true, // destination SME barred
	197: true, // SM rejected: duplicate SM (the centre already has it)
	198: true, // TP-VPF not supported
	199: true, // TP-VP not supported
	304: true, // invalid PDU mode parameter
	305: true, // invalid text mode parameter
}

func cmsClass(code int) Class {
	if permanentCMS[code] {
		return Permanent
	}
	return Temporary
}
