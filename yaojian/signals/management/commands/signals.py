"""``yaojian signals run`` — disproportionality measures for a raw CSV 不相称性信号检测（命令行）.

Reads (case id, drug, event) rows, never touches the database, and writes one row per drug–event
pair with N, E, PRR (χ², CI), ROR (CI), IC (IC025, IC975), EBGM (EB05, EB95) and the criteria met,
plus the fitted MGPS prior beside the output as FILE.prior.json.

``yaojian signals detect`` runs the same computation on the ADR reports in the database for a period
and jurisdiction, stores the run and its pair results, and raises new signals (``services.run_signals``).
"""

import time

from django.core.management.base import BaseCommand, CommandError

from yaojian.core.management.arguments import date_argument
from yaojian.core.models import Division
from yaojian.signals import services
from yaojian.signals.dataset import STRATA
from yaojian.signals.disproportionality import Prior, SignalCriteria, analyse
from yaojian.signals.tables import TableError, read_table, write_results


def _prior(text: str) -> Prior:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 5 or not all(v > 0 for v in values) or values[4] >= 1:
        raise CommandError("--prior 应为 alpha1,beta1,alpha2,beta2,P 五个正数（P < 1）")
    return Prior(*values)


class Command(BaseCommand):
    help = "信号检测：run 对病例–药品–事件明细计算 PRR、ROR、IC、EBGM 等指标；detect 对库内报告检测并保存"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="从 CSV 计算全部组合的不相称性指标")
        run.add_argument("--from-csv", required=True, dest="source", help="输入 CSV（UTF-8 或 GBK）")
        run.add_argument("--out", required=True, help="输出 CSV，每个药品–事件组合一行")
        run.add_argument("--case-col", default="case_id", help="病例编号列名（默认 case_id）")
        run.add_argument("--drug-col", default="drug", help="药品列名（默认 drug）")
        run.add_argument("--event-col", default="event", help="事件列名（默认 event）")
        run.add_argument("--strata", nargs="+", default=[], metavar="COL", help="分层列（如年龄组、性别、年份）")
        run.add_argument("--delimiter", default=",", help="分隔符（默认逗号）")
        run.add_argument(
            "--criteria",
            nargs="+",
            default=[],
            metavar="KEY=VALUE",
            help="判定标准，如 prr=2 chi2=4 n=3 ror025=1 ic025=0 eb05=2（以上为默认值）",
        )
        run.add_argument("--n-star", type=int, default=1, help="先验似然截断值 N*（默认 1）")
        run.add_argument("--prior", help="给定先验 alpha1,beta1,alpha2,beta2,P（不再估计）")

        detect = sub.add_parser("detect", help="对库内不良反应报告检测信号，保存结果并生成新信号")
        detect.add_argument(
            "--from", required=True, dest="date_from", type=date_argument, help="报告日期自（YYYY-MM-DD）"
        )
        detect.add_argument("--to", required=True, dest="date_to", type=date_argument, help="报告日期至（YYYY-MM-DD）")
        detect.add_argument("--division", default="", help="行政区划代码（省/市/区县）；省略为全国")
        detect.add_argument("--category", default=None, help="产品类别 drug / device / cosmetic")
        detect.add_argument("--strata", nargs="+", default=[], choices=sorted(STRATA), help="分层")
        detect.add_argument(
            "--criteria",
            nargs="+",
            default=[],
            metavar="KEY=VALUE",
            help="判定标准，如 prr=2 chi2=4 n=3 ror025=1 ic025=0 eb05=2 methods=PRR,ROR,IC,EBGM min_methods=1 min_n=3",
        )

    def handle(self, *args, action, **opts):
        if action == "detect":
            return self.detect(**opts)
        prior = _prior(opts["prior"]) if opts["prior"] else None
        if opts["n_star"] < 1:
            raise CommandError("--n-star 至少为 1")
        try:
            criteria = SignalCriteria.parse(opts["criteria"])
            table = read_table(
                opts["source"],
                case_col=opts["case_col"],
                drug_col=opts["drug_col"],
                event_col=opts["event_col"],
                strata=opts["strata"],
                delimiter=opts["delimiter"],
            )
        except FileNotFoundError:
            raise CommandError(f"找不到输入文件 {opts['source']}") from None
        except (TableError, ValueError) as exc:
            raise CommandError(f"{opts['source']}：{exc}") from None
        started = time.perf_counter()
        result = analyse(
            table.report,
            table.drug,
            table.event,
            table.stratum,
            prior=prior,
            n_star=opts["n_star"],
            criteria=criteria,
        )
        elapsed = time.perf_counter() - started
        prior_path = write_results(result, table, opts["out"])
        p = result.prior
        self.stdout.write(
            f"报告 {result.counts.n_reports} 份，组合 {result.counts.n.size} 个，计算用时 {elapsed:.2f} 秒\n"
            f"先验{'（给定）' if prior else '（极大似然估计）'}：alpha1={p.alpha1:.6g} beta1={p.beta1:.6g} "
            f"alpha2={p.alpha2:.6g} beta2={p.beta2:.6g} P={p.p:.6g} 对数似然={p.log_likelihood:.6f}"
        )
        for name, flagged in result.flags.items():
            self.stdout.write(f"{name} 信号：{int(flagged.sum())} 个")
        self.stdout.write(self.style.SUCCESS(f"已写入 {opts['out']} 与 {prior_path}"))

    def detect(self, *, date_from, date_to, division, category, strata, criteria, **_opts):
        prefix = ""
        if division:
            found = Division.objects.filter(code=division).first()
            if found is None:
                raise CommandError(f"未知的行政区划代码 {division}")
            prefix = found.prefix
        try:
            run = services.run_signals(
                None,
                date_from=date_from,
                date_to=date_to,
                division_prefix=prefix,
                category=category,
                strata=strata,
                criteria=services.parse_criteria(criteria),
            )
        except services.SignalRunError as exc:
            raise CommandError(f"检测失败：{exc}") from None
        p = run.prior
        self.stdout.write(
            f"第 {run.pk} 次检测：报告 {run.n_reports} 份，明细 {run.n_rows} 行，组合 {run.n_pairs} 个，"
            f"满足标准 {run.n_flagged} 个，新信号 {run.n_new_signals} 个，用时 {run.duration_s:.2f} 秒\n"
            f"先验：alpha1={p['alpha1']:.6g} beta1={p['beta1']:.6g} alpha2={p['alpha2']:.6g} "
            f"beta2={p['beta2']:.6g} P={p['P']:.6g}"
        )
