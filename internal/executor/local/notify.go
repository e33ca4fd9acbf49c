package local

import "sync"

// changedBuffer is the capacity of the Changed channel. Deliveries beyond it
// queue in memory; nothing is ever dropped.
const changedBuffer = 1024

// notifier feeds attempt ids into a buffered channel without ever blocking
// the sender. When the channel is full, ids wait in a FIFO queue that a
// single short-lived drain goroutine forwards as the receiver catches up. An
// id that is already queued is not queued twice (deliveries coalesce).
type notifier struct {
	ch chan string

	mu      sync.Mutex
	queue   []string
	queued  map[string]bool
	running bool // a drain goroutine is active
}

func newNotifier() *notifier {
	return &notifier{ch: make(chan string, changedBuffer), queued: make(map[string]bool)}
}

// notify schedules a delivery of id. It never blocks.
func (n *notifier) notify(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.queued[id] {
		return
	}
	if !n.running {
		select {
		case n.ch <- id:
			return
		default:
		}
	}
	n.queue = append(n.queue, id)
	n.queued[id] = true
	if !n.running {
		n.running = true
		go n.drain()
	}
}

// drain forwards queued ids, blocking on the channel, and exits when the
// queue is empty.
func (n *notifier) drain() {
	for {
		n.mu.Lock()
		if len(n.queue) == 0 {
			n.queue = nil
			n.running = false
			n.mu.Unlock()
			return
		}
		id := n.queue[0]
		n.queue[0] = ""
		n.queue = n.queue[1:]
		delete(n.queued, id)
		n.mu.Unlock()
		n.ch <- id
	}
}
