package main

// A slice used as a queue: the event pump appends from a goroutine, the sender re-slices. When the
// broker is slow the backlog grows in memory until the API is OOM-killed, losing every pending event.
type EventPump struct {
	pending []OrderEvent
}

func (p *EventPump) Run(events <-chan OrderEvent) {
	go func() {
		for ev := range events {
			p.pending = append(p.pending, ev)
		}
	}()
}

func (p *EventPump) Next() (OrderEvent, bool) {
	if len(p.pending) == 0 {
		return OrderEvent{}, false
	}
	ev := p.pending[0]
	p.pending = p.pending[1:]
	return ev, true
}
