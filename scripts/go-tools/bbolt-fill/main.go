// Command bbolt-fill writes a bbolt file with bbolt's own library from a
// script on standard input, one operation a line, so that tests can ask real
// bbolt for files with known content:
//
//	B <hex name>          create (or open) a bucket inside the current one
//	E                     back to the enclosing bucket
//	S <n>                 set the current bucket's sequence
//	F <fraction>          fill percent for the puts that follow
//	P <hex key> <hex value>
//	D <hex key>           delete a key (frees pages across transactions)
//	C                     commit and begin a new transaction
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: bbolt-fill PATH [PAGESIZE] < script"))
	}
	opts := &bolt.Options{}
	if len(os.Args) > 2 {
		size, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fail(err)
		}
		opts.PageSize = size
	}
	db, err := bolt.Open(os.Args[1], 0600, opts)
	if err != nil {
		fail(err)
	}
	if err := run(db, bufio.NewScanner(os.Stdin)); err != nil {
		fail(err)
	}
	if err := db.Close(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}

type state struct {
	tx    *bolt.Tx
	path  [][]byte
	stack []*bolt.Bucket
	fill  float64
}

func run(db *bolt.DB, in *bufio.Scanner) error {
	in.Buffer(make([]byte, 1<<20), 1<<30)
	tx, err := db.Begin(true)
	if err != nil {
		return err
	}
	s := &state{tx: tx, fill: bolt.DefaultFillPercent}
	line := 0
	for in.Scan() {
		line++
		if err := s.apply(db, strings.Fields(in.Text())); err != nil {
			_ = s.tx.Rollback()
			return fmt.Errorf("line %d: %v", line, err)
		}
	}
	if err := in.Err(); err != nil {
		return err
	}
	return s.tx.Commit()
}

func (s *state) apply(db *bolt.DB, f []string) error {
	if len(f) == 0 {
		return nil
	}
	switch f[0] {
	case "B":
		return s.enter(f)
	case "E":
		s.path = s.path[:len(s.path)-1]
		s.stack = s.stack[:len(s.stack)-1]
	case "S":
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return err
		}
		return s.top().SetSequence(n)
	case "F":
		v, err := strconv.ParseFloat(f[1], 64)
		s.fill = v
		return err
	case "P":
		k, v, err := decode2(f)
		if err != nil {
			return err
		}
		b := s.top()
		b.FillPercent = s.fill
		return b.Put(k, v)
	case "D":
		k, err := hex.DecodeString(f[1])
		if err != nil {
			return err
		}
		return s.top().Delete(k)
	case "C":
		return s.commit(db)
	default:
		return fmt.Errorf("unknown operation %q", f[0])
	}
	return nil
}

func (s *state) top() *bolt.Bucket { return s.stack[len(s.stack)-1] }

func (s *state) enter(f []string) error {
	name, err := hex.DecodeString(f[1])
	if err != nil {
		return err
	}
	var b *bolt.Bucket
	if len(s.stack) == 0 {
		b, err = s.tx.CreateBucketIfNotExists(name)
	} else {
		b, err = s.top().CreateBucketIfNotExists(name)
	}
	if err != nil {
		return err
	}
	s.path = append(s.path, name)
	s.stack = append(s.stack, b)
	return nil
}

// commit ends the transaction and reopens the same bucket path in a new one.
func (s *state) commit(db *bolt.DB) error {
	if err := s.tx.Commit(); err != nil {
		return err
	}
	tx, err := db.Begin(true)
	if err != nil {
		return err
	}
	s.tx = tx
	path := s.path
	s.path, s.stack = nil, nil
	for _, name := range path {
		if err := s.enter([]string{"B", hex.EncodeToString(name)}); err != nil {
			return err
		}
	}
	return nil
}

func decode2(f []string) ([]byte, []byte, error) {
	if len(f) < 2 {
		return nil, nil, fmt.Errorf("key required")
	}
	k, err := hex.DecodeString(f[1])
	if err != nil {
		return nil, nil, err
	}
	v := []byte{}
	if len(f) > 2 {
		v, err = hex.DecodeString(f[2])
	}
	return k, v, err
}
