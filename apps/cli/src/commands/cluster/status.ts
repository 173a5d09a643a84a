import { MemberState } from '../../cluster/ClusterFile.js';
import { sampleCluster } from '../../cluster/sample.js';
import { renderTable, sampleJson, summaryLine } from '../../cluster/view.js';
import { ExitCode } from '../../io.js';
import { type Context, emit, isLive, noCluster, requireFile } from './context.js';

export async function status(ctx: Context): Promise<ExitCode> {
  const file = requireFile(ctx);
  if (!file.members.some(isLive)) {
    const counts = file.members.filter((m) => m.state !== MemberState.Stopped).length;
    throw noCluster(
      ctx,
      counts > 0 ? ` (the recorded member processes are gone)` : ' (every member is stopped)',
    );
  }
  const sample = await sampleCluster(file, { timeoutMs: 500 });
  emit(ctx, sampleJson(sample), [
    `cluster in ${ctx.dir}: ${summaryLine(sample)}`,
    ...renderTable(sample, false),
  ]);
  return sample.leader !== null ? ExitCode.Ok : ExitCode.Failure;
}
