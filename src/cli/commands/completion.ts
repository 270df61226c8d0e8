import type { Command, Option } from 'commander';
import { loadScope, managedArguments, type ScopeOptions } from '../context';
import { CliError } from '../errors';
import { out } from '../output';
import { KIND_WORDS } from '../resource';

/** Commands whose first argument is a managed target. */
const TARGET_COMMANDS = ['scale', 'pause', 'resume', 'holds', 'release', 'describe', 'emergency', 'prescale', 'rightsize', 'rollout'];
/** Options whose value is a file. */
const FILE_OPTIONS = ['--config', '--trace', '--html', '--table'];

interface CommandInfo {
  readonly name: string;
  readonly description: string;
  readonly flags: readonly string[];
  readonly formats: readonly string[];
}

function infoOf(program: Command): CommandInfo[] {
  const visible = program.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  return visible.map((c) => {
    const options = c.options as readonly Option[];
    const flags = options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
    const output = options.find((o) => o.long === '--output');
    return { name: c.name(), description: c.description(), flags: [...flags, '--help'], formats: output?.argChoices ?? [] };
  });
}

const words = (list: readonly string[]) => list.join(' ');

function bash(program: Command): string {
  const info = infoOf(program);
  const cases = info
    .map((c) => {
      const args = c.name === 'get' ? `words="${words(KIND_WORDS)}"` : TARGET_COMMANDS.includes(c.name) ? 'words="$(mlscale __complete targets 2>/dev/null)"' : c.name === 'completion' ? 'words="bash zsh"' : 'words=""';
      return `    ${c.name}) opts="${words(c.flags)}"; formats="${words(c.formats)}"; ${args} ;;`;
    })
    .join('\n');
  return `# bash completion for mlscale. Load it with:  source <(mlscale completion bash)
_mlscale() {
  local cur prev cmd i opts formats words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${words(info.map((c) => c.name))} help --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
    *) opts="--help"; formats=""; words="" ;;
  esac
  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W "$formats" -- "$cur")); return ;;
    ${FILE_OPTIONS.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -F _mlscale mlscale
`;
}

const zshQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function zsh(program: Command): string {
  const info = infoOf(program);
  const described = info.map((c) => `    ${zshQuote(`${c.name}:${c.description}`)}`).join('\n');
  const flagCases = info.map((c) => `        ${c.name}) compadd -- ${words(c.flags)} ;;`).join('\n');
  const formatCases = info.filter((c) => c.formats.length).map((c) => `        ${c.name}) compadd -- ${words(c.formats)} ;;`).join('\n');
  return `#compdef mlscale
# zsh completion for mlscale. Load it with:  source <(mlscale completion zsh)
# (or save it as _mlscale in a directory of your $fpath)
_mlscale() {
  local -a commands
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'mlscale command' commands
    return
  fi
  local cmd=\${words[2]}
  case \${words[CURRENT-1]} in
    -o|--output)
      case $cmd in
${formatCases}
      esac
      return ;;
    ${FILE_OPTIONS.join('|')}) _files; return ;;
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    case $cmd in
${flagCases}
    esac
  else
    case $cmd in
      get) compadd -- ${words(KIND_WORDS)} ;;
      ${TARGET_COMMANDS.join('|')}) compadd -- \${(f)"$(mlscale __complete targets 2>/dev/null)"} ;;
      completion) compadd -- bash zsh ;;
    esac
  fi
}
if [[ "\${funcstack[1]}" = "_mlscale" ]]; then
  _mlscale "$@"
else
  compdef _mlscale mlscale
fi
`;
}

export function registerCompletionCommands(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh)')
    .argument('<shell>', 'bash or zsh')
    .addHelpText('after', '\nExamples:\n  source <(mlscale completion bash)\n  source <(mlscale completion zsh)')
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(bash(program));
      else if (shell === 'zsh') process.stdout.write(zsh(program));
      else throw new CliError(`completion: unknown shell '${shell}' (use bash or zsh)`);
    });

  // What the completion scripts call for target names: the managed targets of the config.
  program
    .command('__complete', { hidden: true })
    .argument('<what>', 'targets')
    .option('--config <file>')
    .option('--env <name>')
    .action((what: string, opts: ScopeOptions) => {
      if (what !== 'targets') throw new CliError(`__complete: unknown '${what}' (use targets)`);
      managedArguments(loadScope(opts)).forEach((t) => out(t));
    });
}
