package opener

// command is the URL handler every Windows has, without a console window
// or cmd.exe's parsing of & in the address.
func command(u string) (string, []string) {
	return "rundll32", []string{"url.dll,FileProtocolHandler", u}
}
