// Command bbolt inspects a bbolt file through bbolt's own library, with the
// subcommands of bbolt's CLI that etcd-ts's tests need (Debian ships the
// library but not the CLI): check, buckets, keys, get, plus put (a write
// transaction on top of an existing file) and dump (the whole tree, in the
// line format bbolt-fill reads: B <hex name>, S <sequence>, P <hex key>
// <hex value>, E).
package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: bbolt check|buckets|keys|get|put|dump PATH [BUCKET...] [KEY [VALUE]]")
	}
	cmd, path, rest := os.Args[1], os.Args[2], os.Args[3:]
	var err error
	switch cmd {
	case "check":
		err = view(path, check)
	case "buckets":
		err = view(path, func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				fmt.Println(string(name))
				return nil
			})
		})
	case "keys":
		err = view(path, func(tx *bolt.Tx) error { return keys(tx, rest) })
	case "get":
		err = view(path, func(tx *bolt.Tx) error { return get(tx, rest) })
	case "dump":
		err = view(path, dump)
	case "put":
		err = put(path, rest)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(2)
}

func view(path string, fn func(*bolt.Tx) error) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := bolt.Open(path, 0600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(fn)
}

// check runs bbolt's consistency check (every page reachable or free, none
// referenced twice) and prints OK as bbolt's CLI does.
func check(tx *bolt.Tx) error {
	n := 0
	for err := range tx.Check() {
		fmt.Println(err)
		n++
	}
	if n > 0 {
		return fmt.Errorf("%d errors found", n)
	}
	fmt.Println("OK")
	return nil
}

// bucketAt follows a path of bucket names from the root.
func bucketAt(tx *bolt.Tx, names []string) (*bolt.Bucket, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("bucket name required")
	}
	b := tx.Bucket([]byte(names[0]))
	for _, name := range names[1:] {
		if b == nil {
			break
		}
		b = b.Bucket([]byte(name))
	}
	if b == nil {
		return nil, fmt.Errorf("bucket not found: %s", strings.Join(names, "/"))
	}
	return b, nil
}

func keys(tx *bolt.Tx, names []string) error {
	b, err := bucketAt(tx, names)
	if err != nil {
		return err
	}
	return b.ForEach(func(k, _ []byte) error {
		fmt.Println(string(k))
		return nil
	})
}

func get(tx *bolt.Tx, args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("bucket and key required")
	}
	b, err := bucketAt(tx, args[:len(args)-1])
	if err != nil {
		return err
	}
	v := b.Get([]byte(args[len(args)-1]))
	if v == nil {
		return fmt.Errorf("key not found")
	}
	fmt.Println(string(v))
	return nil
}

func put(path string, args []string) error {
	if len(args) < 3 {
		return fmt.Errorf("bucket, key and value required")
	}
	db, err := bolt.Open(path, 0600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		b, err := bucketAt(tx, args[:len(args)-2])
		if err != nil {
			return err
		}
		return b.Put([]byte(args[len(args)-2]), []byte(args[len(args)-1]))
	})
}

func dump(tx *bolt.Tx) error {
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		return dumpBucket(name, b)
	})
}

// dumpBucket walks a bucket with a cursor and also looks every key up with
// Get, so that the binary search through branch pages is exercised and a key
// out of order (which a cursor walk would not notice) fails the dump.
func dumpBucket(name []byte, b *bolt.Bucket) error {
	fmt.Printf("B %x\n", name)
	if seq := b.Sequence(); seq != 0 {
		fmt.Printf("S %d\n", seq)
	}
	var prev []byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return fmt.Errorf("key %x after %x: out of order", k, prev)
		}
		prev = append(prev[:0], k...)
		if v == nil {
			if err := dumpBucket(k, b.Bucket(k)); err != nil {
				return err
			}
			continue
		}
		if got := b.Get(k); !bytes.Equal(got, v) {
			return fmt.Errorf("Get(%x) does not find the value the cursor shows", k)
		}
		fmt.Printf("P %s %s\n", hex.EncodeToString(k), hex.EncodeToString(v))
	}
	fmt.Println("E")
	return nil
}
