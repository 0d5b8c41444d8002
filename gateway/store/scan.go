package store

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// revScan walks the keys with prefix from newest (largest) to oldest,
// starting strictly below before (nil: from the end of the prefix range).
// fn returns false to stop. Keys and values are only valid during fn.
func revScan(b *bolt.Bucket, prefix, before []byte, fn func(k, v []byte) bool) {
	c := b.Cursor()
	var key, val []byte
	if before != nil {
		// Seek lands on the first key >= before: the one below it is
		// the start (or the last key when all are below).
		if key, _ = c.Seek(before); key == nil {
			key, val = c.Last()
		} else {
			key, val = c.Prev()
		}
	} else {
		// The first key past the prefix range, then one back.
		end := prefixEnd(prefix)
		if end == nil {
			key, val = c.Last()
		} else {
			key, _ = c.Seek(end)
			if key == nil {
				key, val = c.Last()
			} else {
				key, val = c.Prev()
			}
		}
	}
	for ; key != nil && bytes.HasPrefix(key, prefix); key, val = c.Prev() {
		if !fn(key, val) {
			return
		}
	}
}

// fwdScan walks the keys with prefix in order, starting at from (inclusive;
// nil: the start of the prefix).
func fwdScan(b *bolt.Bucket, prefix, from []byte, fn func(k, v []byte) bool) {
	c := b.Cursor()
	if from == nil {
		from = prefix
	}
	for key, val := c.Seek(from); key != nil && bytes.HasPrefix(key, prefix); key, val = c.Next() {
		if !fn(key, val) {
			return
		}
	}
}

// prefixEnd is the smallest key greater than every key with prefix p (nil
// when there is none: p is empty or all 0xff).
func prefixEnd(p []byte) []byte {
	end := clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
