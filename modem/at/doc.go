// Package at is the AT command engine: it owns one modem byte stream (any
// io.ReadWriteCloser: a serial port, a pty, a TCP connection to ser2net) and
// turns it into serialised commands with results and an ordered stream of
// unsolicited result codes (URCs).
//
// One goroutine reads the stream and frames it into final results, information
// lines, the SMS prompt ('>' first on a line, with or without a space, no line
// end), echoes of commands and PDUs (echo may be on or off) and URCs. Commands
// are serialised: Exec and ExecSMS wait for the previous command to finish.
//
// URCs come from a registry (name and line count; see WithURC). They are cut
// out of any response they interrupt, never appear in a command's result, and
// are handed in order to a handler running on its own goroutine, fed by a
// bounded queue that drops its oldest entry rather than block the reader; the
// handler may call Exec. A line whose name is registered but which answers
// the running command is that command's: "+CREG: 0,1" during "AT+CREG?"
// (read, test or action form) is the answer, "+CREG: 1" during "AT+CREG=2"
// (set form) or between commands is unsolicited.
//
// After a command times out (or its context ends) the link is treated as
// desynchronised until proven otherwise: before the next command the engine
// sends ESC (in case an SMS prompt is open) and "AT", and discards the late
// answer of the abandoned command (the modem answers in order, so the next
// final results are owed to it), which is therefore never credited to a later
// command. A prompt nobody waits for is closed with ESC at once.
//
// A read or write failure (EOF on unplug) closes the engine: Err and every
// pending Exec return an error wrapping ErrClosed and the cause. Close never
// waits for a running command.
//
// Not handled: numeric result codes (ATV0; use ATV1), data mode (CONNECT).
// The package knows nothing of SMS PDUs, modem models, initialisation or
// recovery policy: that is package modem's job. It never opens a device itself.
package at
