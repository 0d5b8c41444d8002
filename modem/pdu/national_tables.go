package pdu

// nationalLocking returns the locking shift table of l (TS 23.038 §A.3): the
// character for each septet 0x00..0x7F, or nil when the spec defines no
// locking table for l (Spanish has only a single shift table).
// Entries the spec leaves empty hold 0 (no character).
func nationalLocking(l Language) *[128]rune {
	return nil
}

// nationalSingle returns the single shift table of l (TS 23.038 §A.2): the
// character for each septet that follows an escape (0x1B), or nil when the
// spec defines none. Entries the spec leaves empty hold 0.
func nationalSingle(l Language) *[128]rune {
	return nil
}
