// hashkv_oracle replays a history on etcd 3.4's own mvcc store (bbolt backend, tree index,
// lessor) and prints HashByRev for the revisions asked: the values hashkv_test.ts pins.
// Build it offline with Debian's etcd sources (golang-etcd-server-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/hashkv_oracle hashkv_oracle.go
//	/tmp/hashkv_oracle < hashkv_history.json
//
// Input: a JSON array of steps, each one of
//
//	{"txn": [{"put": ["key", "value", "lease ID in decimal, optional"]}, {"del": ["key", "end"]}]}
//	{"compact": rev}
//	{"hash": [rev, ...]}
//
// where a del's end "\u0000" means every key from `key` on, as etcdserver reads it.
// Output: one line per hashed revision, "rev hash compactRev currentRev" or "rev error".
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"go.etcd.io/etcd/lease"
	"go.etcd.io/etcd/mvcc"
	"go.etcd.io/etcd/mvcc/backend"
	"go.etcd.io/etcd/pkg/traceutil"
	"go.uber.org/zap"
)

type op struct {
	Put []string `json:"put"`
	Del []string `json:"del"`
}

type step struct {
	Txn     []op    `json:"txn"`
	Compact int64   `json:"compact"`
	Hash    []int64 `json:"hash"`
}

type noIndex struct{}

func (noIndex) ConsistentIndex() uint64 { return 0 }

func leaseOf(o op) lease.LeaseID {
	if len(o.Put) < 3 {
		return lease.NoLease
	}
	id, err := strconv.ParseInt(o.Put[2], 10, 64)
	if err != nil {
		panic(err)
	}
	return lease.LeaseID(id)
}

func applyTxn(s mvcc.KV, le lease.Lessor, ops []op) {
	// Leases first: Grant takes the backend lock a write txn holds.
	for _, o := range ops {
		if id := leaseOf(o); id != lease.NoLease && le.Lookup(id) == nil {
			if _, err := le.Grant(id, 600); err != nil {
				panic(err)
			}
		}
	}
	tw := s.Write(traceutil.TODO())
	for _, o := range ops {
		if o.Put != nil {
			tw.Put([]byte(o.Put[0]), []byte(o.Put[1]), leaseOf(o))
			continue
		}
		var end []byte
		if len(o.Del) > 1 {
			end = []byte(o.Del[1])
			if o.Del[1] == "\x00" {
				end = []byte{}
			}
		}
		tw.DeleteRange([]byte(o.Del[0]), end)
	}
	tw.End()
}

func main() {
	var steps []step
	if err := json.NewDecoder(os.Stdin).Decode(&steps); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "hashkv-oracle-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	be := backend.NewDefaultBackend(dir + "/db")
	lg := zap.NewNop()
	le := lease.NewLessor(lg, be, nil, lease.LessorConfig{MinLeaseTTL: 1})
	s := mvcc.NewStore(lg, be, le, noIndex{}, mvcc.StoreConfig{})
	for _, st := range steps {
		switch {
		case st.Txn != nil:
			applyTxn(s, le, st.Txn)
		case st.Compact != 0:
			done, err := s.Compact(traceutil.TODO(), st.Compact)
			if err != nil {
				panic(err)
			}
			<-done
			// etcd commits the last batch of removals at its next batch tick; until then its
			// reads still see those rows. Hash the settled state.
			be.ForceCommit()
		default:
			for _, rev := range st.Hash {
				h, cur, comp, err := s.HashByRev(rev)
				if err != nil {
					fmt.Printf("%d %v\n", rev, err)
				} else {
					fmt.Printf("%d %d %d %d\n", rev, h, comp, cur)
				}
			}
		}
	}
}
