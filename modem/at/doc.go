// Package at is the AT command engine: it owns one modem byte stream (any
// io.ReadWriteCloser: a serial port, a pty, a TCP connection to ser2net) and
// turns it into serialised commands with results and an ordered stream of
// unsolicited result codes (URCs).
//
// One goroutine reads the stream and frames it into final results, information
// lines, the SMS prompt, echoes and URCs. Commands are serialised: Exec and
// ExecSMS wait for the previous command to finish. URCs are cut out of any
// response they interrupt, never appear in a command's result, and are handed
// in order to a handler that runs on its own goroutine and may itself call Exec.
//
// After a command times out (or its context ends) the link is treated as
// desynchronised until proven otherwise: before the next command the engine
// sends ESC (in case an SMS prompt is open) and "AT", and discards the late
// answer of the abandoned command, which is therefore never credited to a later
// command.
//
// The package knows nothing of SMS PDUs, modem models, initialisation or
// recovery policy: that is package modem's job. It never opens a device itself.
package at
