package worker

type Job struct{ ID string }

type Dispatcher struct {
	queue []Job
}

func (d *Dispatcher) Start(in <-chan Job) {
	go func() {
		for job := range in {
			d.queue = append(d.queue, job)
		}
	}()
}

// distsys-review: ignore[BKP001] jobs come from a bounded batch
func (d *Dispatcher) Next() Job {
	job := d.queue[0]
	d.queue = d.queue[1:]
	return job
}
