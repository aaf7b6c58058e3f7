#include "devices/ide.h"

#include <string.h>

#define SIGNATURE_NSECT  0x01 /* what an ATA (not ATAPI) device leaves after reset or diagnostics */
#define SIGNATURE_LBAL   0x01
#define CHS_HEADS        16   /* the translation IDENTIFY reports (ata.c) until the guest sets another */
#define CHS_SECTORS      63

/* ---- interrupt ------------------------------------------------------------------------------------ */

static void update_irq(struct ide_channel *ch)
{
	int level = ch->intrq && !(ch->control & IDE_CTL_NIEN);
	if (level != ch->irq_level) {
		ch->irq_level = level;
		irq_line_set(&ch->irq, level);
	}
}

/* IRQ 14 is edge-triggered: a new interrupt while the line is still up needs a fresh rising edge. */
static void raise_irq(struct ide_channel *ch)
{
	if (ch->irq_level) {
		ch->irq_level = 0;
		irq_line_set(&ch->irq, 0);
	}
	ch->intrq = true;
	update_irq(ch);
}

static void clear_irq(struct ide_channel *ch)
{
	ch->intrq = false;
	update_irq(ch);
}

/* ---- task file ------------------------------------------------------------------------------------ */

static struct ide_drive *selected(struct ide_channel *ch)
{
	return &ch->drive[(ch->device & IDE_DEV_SLAVE) ? 1 : 0];
}

static void push(uint8_t reg[2], uint8_t v)
{
	reg[1] = reg[0];
	reg[0] = v;
}

static void set_signature(struct ide_channel *ch)
{
	memset(ch->feature, 0, sizeof(ch->feature));
	ch->nsect[0] = SIGNATURE_NSECT;
	ch->lbal[0] = SIGNATURE_LBAL;
	ch->nsect[1] = ch->lbal[1] = 0;
	memset(ch->lbam, 0, sizeof(ch->lbam));
	memset(ch->lbah, 0, sizeof(ch->lbah));
	ch->device = 0;
	for (unsigned i = 0; i < IDE_DRIVES; i++) {
		struct ide_drive *d = &ch->drive[i];
		if (d->present) {
			d->status = ATA_STATUS_OK;
			d->error = ATA_DIAG_PASSED;
		}
	}
}

/* The task file as one ATA command: every register's two bytes, so that 48-bit commands find their high
 * halves; ata.c takes only the low ones for 28-bit commands. */
static struct ata_tf task_file(const struct ide_channel *ch, uint8_t command)
{
	struct ata_tf tf = { 0 };
	tf.command = command;
	tf.features = (uint16_t)(ch->feature[0] | ch->feature[1] << 8);
	tf.count = (uint16_t)(ch->nsect[0] | ch->nsect[1] << 8);
	tf.lba = (uint64_t)ch->lbal[0] | (uint64_t)ch->lbam[0] << 8 | (uint64_t)ch->lbah[0] << 16 |
		 (uint64_t)ch->lbal[1] << 24 | (uint64_t)ch->lbam[1] << 32 | (uint64_t)ch->lbah[1] << 40;
	tf.device = ch->device;
	tf.control = ch->control;
	return tf;
}

/* The 28-bit media commands, the only ones a CHS address can come with. */
static bool media28(uint8_t command)
{
	switch (command) {
	case ATA_CMD_READ_SECTORS:
	case ATA_CMD_WRITE_SECTORS:
	case ATA_CMD_READ_MULTIPLE:
	case ATA_CMD_WRITE_MULTIPLE:
	case ATA_CMD_VERIFY:
		return true;
	default:
		return false;
	}
}

/* Cylinder/head/sector to LBA with the drive's translation; false for a sector that does not exist. */
static bool chs_to_lba(const struct ide_drive *d, struct ata_tf *tf)
{
	unsigned sector = tf->lba & 0xff;
	unsigned cylinder = (tf->lba >> 8) & 0xffff;
	unsigned head = tf->device & 0x0f;
	if (sector == 0 || sector > d->sectors || head >= d->heads)
		return false;
	uint64_t lba = ((uint64_t)cylinder * d->heads + head) * d->sectors + sector - 1;
	tf->lba = lba & 0xffffff;
	tf->device = (uint8_t)((tf->device & 0xf0) | IDE_DEV_LBA | ((lba >> 24) & 0x0f));
	return true;
}

/* Outputs of the commands that return values in the task file. */
static void store_outputs(struct ide_channel *ch, const struct ata_tf *tf)
{
	switch (tf->command) {
	case ATA_CMD_READ_NATIVE_MAX:
	case ATA_CMD_READ_NATIVE_MAX_EXT:
		ch->lbal[0] = (uint8_t)tf->lba;
		ch->lbam[0] = (uint8_t)(tf->lba >> 8);
		ch->lbah[0] = (uint8_t)(tf->lba >> 16);
		ch->lbal[1] = (uint8_t)(tf->lba >> 24);
		ch->lbam[1] = (uint8_t)(tf->lba >> 32);
		ch->lbah[1] = (uint8_t)(tf->lba >> 40);
		ch->device = (uint8_t)((ch->device & 0xf0) | (tf->device & 0x0f));
		break;
	case ATA_CMD_CHECK_POWER_MODE:
		ch->nsect[0] = (uint8_t)tf->count;
		break;
	default:
		break;
	}
}

/* The command ended (at once, or with an error in its data phase): status, error, interrupt. */
static void finish(struct ide_channel *ch, struct ide_drive *d, const struct ata_tf *tf)
{
	ch->phase = IDE_IDLE;
	d->status = tf->status;
	d->error = tf->error;
	raise_irq(ch);
}

/* ---- PIO data phases -------------------------------------------------------------------------------- */

/* The part of the command's plan that the next DRQ block covers. */
static struct ata_plan block_plan(const struct ide_channel *ch)
{
	struct ata_plan p = ch->plan;
	if (p.media) {
		uint64_t left = ch->plan.sectors - ch->done;
		uint32_t n = left < ch->block ? (uint32_t)left : ch->block;
		p.lba += ch->done;
		p.sectors = n;
		p.bytes = (uint64_t)n * DISK_SECTOR_SIZE;
	}
	return p;
}

/* Fill the buffer with the next block of a PIO read and offer it (DRQ, an interrupt per block). */
static void load_in_block(struct ide_channel *ch)
{
	struct ide_drive *d = &ch->drive[ch->active];
	struct ata_plan p = block_plan(ch);
	struct ata_tf tf = ch->tf;
	struct iovec iov = { .iov_base = ch->buf, .iov_len = (size_t)p.bytes };
	if (ata_execute(&d->ata, &tf, &p, &iov, 1)) {
		finish(ch, d, &tf);
		return;
	}
	ch->pos = 0;
	ch->len = (uint32_t)p.bytes;
	d->status = ATA_STATUS_OK | ATA_STATUS_DRQ;
	d->error = 0;
	raise_irq(ch);
}

/* Wait for the next block of a PIO write (DRQ; the first block comes without an interrupt). */
static void want_out_block(struct ide_channel *ch)
{
	struct ata_plan p = block_plan(ch);
	ch->pos = 0;
	ch->len = (uint32_t)p.bytes;
	ch->drive[ch->active].status = ATA_STATUS_OK | ATA_STATUS_DRQ;
}

static void in_block_done(struct ide_channel *ch)
{
	struct ide_drive *d = &ch->drive[ch->active];
	if (ch->plan.media) {
		ch->done += ch->len / DISK_SECTOR_SIZE;
		if (ch->done < ch->plan.sectors) {
			load_in_block(ch);
			return;
		}
	}
	ch->phase = IDE_IDLE; /* after the last block of a read: no interrupt */
	d->status = ATA_STATUS_OK;
}

static void out_block_done(struct ide_channel *ch)
{
	struct ide_drive *d = &ch->drive[ch->active];
	struct ata_plan p = block_plan(ch);
	struct ata_tf tf = ch->tf;
	struct iovec iov = { .iov_base = ch->buf, .iov_len = (size_t)p.bytes };
	if (ata_execute(&d->ata, &tf, &p, &iov, 1)) {
		finish(ch, d, &tf);
		return;
	}
	ch->done += p.sectors;
	if (ch->done < ch->plan.sectors) {
		want_out_block(ch);
		raise_irq(ch);
		return;
	}
	finish(ch, d, &tf);
}

static bool multiple_command(uint8_t command)
{
	return command == ATA_CMD_READ_MULTIPLE || command == ATA_CMD_WRITE_MULTIPLE ||
	       command == ATA_CMD_READ_MULTIPLE_EXT || command == ATA_CMD_WRITE_MULTIPLE_EXT;
}

static void start_pio(struct ide_channel *ch, unsigned n, const struct ata_tf *tf, const struct ata_plan *plan)
{
	ch->active = n;
	ch->tf = *tf;
	ch->plan = *plan;
	ch->done = 0;
	ch->block = multiple_command(tf->command) ? ch->drive[n].ata.multiple : 1;
	if (plan->proto == ATA_PROTO_PIO_IN) {
		ch->phase = IDE_PIO_IN;
		load_in_block(ch);
	} else {
		ch->phase = IDE_PIO_OUT;
		want_out_block(ch);
	}
}

static void data_read(struct ide_channel *ch, uint8_t *out, unsigned size)
{
	memset(out, 0xff, size);
	if (ch->phase != IDE_PIO_IN)
		return;
	uint32_t n = ch->len - ch->pos < size ? ch->len - ch->pos : size;
	memcpy(out, ch->buf + ch->pos, n);
	ch->pos += n;
	if (ch->pos == ch->len)
		in_block_done(ch);
}

static void data_write(struct ide_channel *ch, const uint8_t *in, unsigned size)
{
	if (ch->phase != IDE_PIO_OUT)
		return;
	uint32_t n = ch->len - ch->pos < size ? ch->len - ch->pos : size;
	memcpy(ch->buf + ch->pos, in, n);
	ch->pos += n;
	if (ch->pos == ch->len)
		out_block_done(ch);
}

/* ---- commands ------------------------------------------------------------------------------------- */

static void fail_command(struct ide_channel *ch, struct ide_drive *d, uint8_t command, uint8_t error)
{
	struct ata_tf tf = { .command = command, .status = ATA_STATUS_FAIL, .error = error };
	finish(ch, d, &tf);
}

static void command(struct ide_channel *ch, uint8_t cmd)
{
	if (cmd == ATA_CMD_EXEC_DIAGNOSTIC) {
		/* Addressed to both devices; device 0 reports. */
		ch->phase = IDE_IDLE;
		set_signature(ch);
		raise_irq(ch);
		return;
	}
	unsigned n = (ch->device & IDE_DEV_SLAVE) ? 1 : 0;
	struct ide_drive *d = &ch->drive[n];
	if (!d->present)
		return; /* nobody listens */
	ch->phase = IDE_IDLE; /* a new command ends any data phase */
	if (cmd == ATA_CMD_INIT_DEV_PARAMS) {
		if (ch->nsect[0] == 0) {
			fail_command(ch, d, cmd, ATA_ERROR_ABRT);
			return;
		}
		d->heads = (uint16_t)((ch->device & 0x0f) + 1);
		d->sectors = ch->nsect[0];
		d->status = ATA_STATUS_OK;
		d->error = 0;
		raise_irq(ch);
		return;
	}
	struct ata_tf tf = task_file(ch, cmd);
	if (media28(cmd) && !(ch->device & IDE_DEV_LBA) && !chs_to_lba(d, &tf)) {
		fail_command(ch, d, cmd, ATA_ERROR_IDNF | ATA_ERROR_ABRT);
		return;
	}
	struct ata_plan plan;
	if (ata_plan(&d->ata, &tf, &plan)) {
		finish(ch, d, &tf);
		return;
	}
	switch (plan.proto) {
	case ATA_PROTO_NODATA:
		ata_execute(&d->ata, &tf, &plan, NULL, 0);
		store_outputs(ch, &tf);
		finish(ch, d, &tf);
		break;
	case ATA_PROTO_PIO_IN:
	case ATA_PROTO_PIO_OUT:
		start_pio(ch, n, &tf, &plan);
		break;
	default:
		fail_command(ch, d, cmd, ATA_ERROR_ABRT); /* DMA and queued commands: no bus master here */
		break;
	}
}

/* ---- registers ------------------------------------------------------------------------------------ */

static uint8_t register_read(struct ide_channel *ch, unsigned reg)
{
	struct ide_drive *d = selected(ch);
	if (!d->present)
		return 0; /* an absent device drives nothing; the one present does not answer for it */
	unsigned hob = (ch->control & IDE_CTL_HOB) ? 1 : 0;
	switch (reg) {
	case IDE_REG_ERROR: return d->error;
	case IDE_REG_NSECT: return ch->nsect[hob];
	case IDE_REG_LBAL: return ch->lbal[hob];
	case IDE_REG_LBAM: return ch->lbam[hob];
	case IDE_REG_LBAH: return ch->lbah[hob];
	case IDE_REG_DEVICE: return ch->device | IDE_DEV_OBS;
	default:
		clear_irq(ch); /* reading the status register acknowledges the interrupt */
		return d->status;
	}
}

static void register_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	if (reg != IDE_REG_STATUS)
		ch->control &= (uint8_t)~IDE_CTL_HOB; /* any task-file write clears HOB */
	switch (reg) {
	case IDE_REG_ERROR: push(ch->feature, v); break;
	case IDE_REG_NSECT: push(ch->nsect, v); break;
	case IDE_REG_LBAL: push(ch->lbal, v); break;
	case IDE_REG_LBAM: push(ch->lbam, v); break;
	case IDE_REG_LBAH: push(ch->lbah, v); break;
	case IDE_REG_DEVICE: ch->device = v; break;
	default: command(ch, v); break;
	}
}

void ide_cmd_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct ide_channel *ch = dev;
	uint8_t *out = data;
	if (offset == IDE_REG_DATA) {
		data_read(ch, out, size);
		return;
	}
	/* A wider access to the byte registers reads them one after another, as the ISA bus splits it. */
	for (unsigned i = 0; i < size; i++)
		out[i] = offset + i < IDE_CMD_PORTS ? register_read(ch, (unsigned)offset + i) : 0xff;
}

void ide_cmd_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct ide_channel *ch = dev;
	const uint8_t *in = data;
	if (offset == IDE_REG_DATA) {
		data_write(ch, in, size);
		return;
	}
	for (unsigned i = 0; i < size && offset + i < IDE_CMD_PORTS; i++)
		register_write(ch, (unsigned)offset + i, in[i]);
}

void ide_ctl_read(void *dev, uint64_t offset, void *data, unsigned size)
{
	struct ide_channel *ch = dev;
	const struct ide_drive *d = selected(ch);
	(void)offset;
	memset(data, 0xff, size);
	*(uint8_t *)data = d->present ? d->status : 0; /* the alternate status leaves INTRQ alone */
}

void ide_ctl_write(void *dev, uint64_t offset, const void *data, unsigned size)
{
	struct ide_channel *ch = dev;
	uint8_t v = *(const uint8_t *)data;
	(void)offset;
	(void)size;
	uint8_t before = ch->control;
	ch->control = v;
	if ((v & IDE_CTL_SRST) && !(before & IDE_CTL_SRST)) {
		/* Software reset begins: every command ends, the devices are busy until SRST drops. */
		ch->phase = IDE_IDLE;
		ch->intrq = false;
		for (unsigned i = 0; i < IDE_DRIVES; i++)
			if (ch->drive[i].present)
				ch->drive[i].status = ATA_STATUS_BSY;
	} else if (!(v & IDE_CTL_SRST) && (before & IDE_CTL_SRST)) {
		set_signature(ch); /* settings (multiple mode, write cache) survive a software reset */
	}
	update_irq(ch);
}

void ide_init(struct ide_channel *ch, struct disk_image *const *disks, unsigned ndisks, struct irq_line irq)
{
	memset(ch, 0, sizeof(*ch));
	ch->irq = irq;
	for (unsigned i = 0; i < ndisks && i < IDE_DRIVES; i++) {
		struct ide_drive *d = &ch->drive[i];
		d->present = true;
		ata_drive_init_parallel(&d->ata, disks[i], i);
		d->heads = CHS_HEADS;
		d->sectors = CHS_SECTORS;
	}
	set_signature(ch);
}
