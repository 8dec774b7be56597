package opener

func command(u string) (string, []string) { return "open", []string{u} }
