/** A `maai-encoder` subcommand: its one-line summary, its --help text, and its run (exit code). */
export interface Command {
  summary: string;
  help: string;
  run(argv: string[]): Promise<number>;
}
