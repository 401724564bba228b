#compdef ggufs
# zsh completion for ggufs: commands and flags come from the binary itself
# (`ggufs ... --generate-bash-completion`); arguments complete as file names.
_ggufs() {
	local -a words_out
	local cur=${words[CURRENT]}
	if [[ $cur == -* ]]; then
		words_out=(${(f)"$(${words[1,CURRENT-1]} $cur --generate-bash-completion 2>/dev/null)"})
	else
		words_out=(${(f)"$(${words[1,CURRENT-1]} --generate-bash-completion 2>/dev/null)"})
	fi
	# urfave/cli prints "name:description" for zsh; keep the names.
	words_out=(${words_out%%:*})
	if [[ ${#words_out} -gt 0 ]]; then
		compadd -a words_out
	fi
	_files
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
	_ggufs "$@"
else
	compdef _ggufs ggufs
fi
