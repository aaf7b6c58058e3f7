/* The subcommands of lbvm: each takes the arguments after its name and returns an exit status
 * (common/exit_codes.h). */
#ifndef LBVM_CLI_COMMANDS_H
#define LBVM_CLI_COMMANDS_H

int cmd_boot(int argc, char **argv);
int cmd_mkinitramfs(int argc, char **argv);
int cmd_mkdisk(int argc, char **argv);
int cmd_disk(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_bootstrap(int argc, char **argv);
int cmd_diff(int argc, char **argv);

#endif
