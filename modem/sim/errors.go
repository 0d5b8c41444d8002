package sim

import "strconv"

// errKind says how a failed command reads on the line.
type errKind int

const (
	errPlain   errKind = iota // "ERROR" whatever +CMEE says (syntax errors, unknown commands)
	errCME                    // +CME ERROR (TS 27.007 §9.2)
	errCMS                    // +CMS ERROR (TS 27.005 §3.2.5)
	errProfile                // the profile's answer to an unknown command
)

// atError is a command's failure.
type atError struct {
	kind errKind
	code int
}

func cme(code int) *atError { return &atError{kind: errCME, code: code} }
func cms(code int) *atError { return &atError{kind: errCMS, code: code} }

var errSyntax = &atError{kind: errPlain}
var errUnknown = &atError{kind: errProfile}

// +CME ERROR codes used here, TS 27.007 §9.2.
const (
	cmeFailure          = 0
	cmeNotAllowed       = 3
	cmeNotSupported     = 4
	cmeSIMNotInserted   = 10
	cmeSIMPINRequired   = 11
	cmeSIMPUKRequired   = 12
	cmeSIMFailure       = 13
	cmeIncorrectPasswd  = 16
	cmeNoNetwork        = 30
	cmeIncorrectParams  = 50
	cmeUnknown          = 100
	cmsOpNotAllowed     = 302
	cmsOpNotSupported   = 303
	cmsInvalidPDUParam  = 304
	cmsInvalidTextParam = 305
	cmsSIMNotInserted   = 310
	cmsSIMPINRequired   = 311
	cmsSIMFailure       = 313
	cmsSIMPUKRequired   = 316
	cmsInvalidIndex     = 321
	cmsMemoryFull       = 322
	cmsSMSCUnknown      = 330
	cmsNoNetwork        = 331
	cmsNoCNMAExpected   = 340
	cmsUnknown          = 500
)

// cmeText is the verbose form (+CMEE=2) of +CME ERROR codes, TS 27.007 §9.2.
var cmeText = map[int]string{
	0: "phone failure", 3: "operation not allowed", 4: "operation not supported",
	10: "SIM not inserted", 11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure",
	14: "SIM busy", 15: "SIM wrong", 16: "incorrect password", 20: "memory full", 21: "invalid index",
	30: "no network service", 31: "network timeout", 50: "incorrect parameters", 100: "unknown",
}

// cmsText is the verbose form of +CMS ERROR codes: 0-127 are the RP/CP
// causes of TS 24.011 §8.2.5.4 and TP-FCS values of TS 23.040; 300-500 are
// TS 27.005 §3.2.5.
var cmsText = map[int]string{
	1: "Unassigned (unallocated) number", 8: "Operator determined barring", 10: "Call barred",
	21: "Short message transfer rejected", 27: "Destination out of service", 28: "Unidentified subscriber",
	29: "Facility rejected", 30: "Unknown subscriber", 38: "Network out of order", 41: "Temporary failure",
	42: "Congestion", 47: "Resources unavailable, unspecified", 50: "Requested facility not subscribed",
	69: "Requested facility not implemented", 81: "Invalid short message transfer reference value",
	95: "Invalid message, unspecified", 96: "Invalid mandatory information", 97: "Message type non-existent or not implemented",
	98: "Message not compatible with short message protocol state", 99: "Information element non-existent or not implemented",
	111: "Protocol error, unspecified", 127: "Interworking, unspecified",
	300: "ME failure", 301: "SMS service of ME reserved", 302: "operation not allowed", 303: "operation not supported",
	304: "invalid PDU mode parameter", 305: "invalid text mode parameter", 310: "SIM not inserted",
	311: "SIM PIN required", 312: "PH-SIM PIN required", 313: "SIM failure", 314: "SIM busy", 315: "SIM wrong",
	316: "SIM PUK required", 317: "SIM PIN2 required", 318: "SIM PUK2 required", 320: "memory failure",
	321: "invalid memory index", 322: "memory full", 330: "SMSC address unknown", 331: "no network service",
	332: "network timeout", 340: "no +CNMA acknowledgement expected", 500: "unknown error",
}

// TemporaryCMS and PermanentCMS list the send failures a fault can inject,
// as TS 24.011 and TS 27.005 classify them: a temporary one is worth a
// retry, a permanent one is not. They are functions returning fresh slices so
// that no caller can change what another one sees.
func TemporaryCMS() []int { return []int{27, 38, 41, 42, 47, 331, 332, 500} }

// PermanentCMS: see TemporaryCMS.
func PermanentCMS() []int { return []int{1, 8, 10, 21, 29, 30, 50, 96} }

// line renders the error as the modem prints it, given +CMEE and the profile.
func (e *atError) line(cmee int, p *profile) string {
	switch e.kind {
	case errProfile:
		return p.unknownCommand
	case errPlain:
		return "ERROR"
	}
	if cmee == 0 {
		return "ERROR"
	}
	prefix, table := "+CME ERROR: ", cmeText
	if e.kind == errCMS {
		prefix, table = "+CMS ERROR: ", cmsText
	}
	if cmee == 2 {
		if t, ok := table[e.code]; ok {
			return prefix + t
		}
	}
	return prefix + strconv.Itoa(e.code)
}
