package pipeline

// Outputs fans one result out to several outputs, in order.
type Outputs []Output

// Result hands r to every output.
func (o Outputs) Result(r *Result) {
	for _, out := range o {
		out.Result(r)
	}
}
