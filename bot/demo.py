"""`guanjia demo`: a scripted day at the estate, played by the real bot against the Bot API sandbox.

Residents write (text and a photo), butlers accept, reply and resolve, a resident confirms and rates, a
complaint from a VIP owner reaches the manager and its butler moves the committed time, a request not
accepted within three minutes goes to the next butler of the team, a newcomer joins by invite code, an
owner gets the month's property-fee notice and orders a paid service from the price list, the manager
sends an announcement to one building and looks at the day's figures; next morning at 08:00 the daily
digest arrives by itself, with its chart. Then every person's chat is printed as they saw it.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.catalog import import_catalog, read_catalog
from bot.clock import ManualClock
from bot.config import FeeTiming
from bot.embedded import EmbeddedEstate, embedded_estate
from bot.fee_import import import_fees
from bot.sandbox import ChatMessage, SandboxUser
from storage import people as people_queries

ROSTER = Path(__file__).with_name("demo_roster.csv")
CATALOG = Path(__file__).with_name("demo_catalog.toml")
FEES = Path(__file__).with_name("demo_fees.csv")
# A fixed morning, so the demo prints the same day every time.
MORNING = datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

MANAGER_ID = 7001
DIGEST_TITLE = "服务日报"
# Who appears in the printed day, in this order: (telegram id, how to introduce them).
CAST = (
    (1101, "张伟 · 业主 1-101"),
    (1102, "Tom Baker · resident 1-101 (English)"),
    (5001, "李娜 · 管家 A组"),
    (5002, "赵磊 · 管家 A组"),
    (3502, "陈静 · VIP 业主 3-502"),
    (5101, "王强 · 管家 B组"),
    (MANAGER_ID, "刘洋 · 项目经理"),
    (2201, "周杰 · 业主 2-201 (joins by invite)"),
)


async def play(out: TextIO) -> int:
    clock = ManualClock(MORNING)
    with tempfile.TemporaryDirectory(prefix="guanjia-demo-") as workdir:
        async with embedded_estate(Path(workdir), ROSTER.read_text(encoding="utf-8"), clock) as estate:
            await _the_estates_lists(estate, clock)
            await _the_day(estate, clock)
            await estate.settled()
            _print_day(estate, out)
    return 0


async def _the_estates_lists(estate: EmbeddedEstate, clock: ManualClock) -> None:
    """What `guanjia catalog import` and `guanjia fees import` load: the price list and this month's fees."""
    catalog = read_catalog(CATALOG.read_text(encoding="utf-8"), ".toml")
    async with estate.db.begin() as conn:
        estate_id = (await people_queries.estate_named(conn, None)).id
        await import_catalog(conn, estate_id, catalog.entries, clock.now())
        await import_fees(conn, FEES.read_text(encoding="utf-8"), estate_id, FeeTiming(), clock.now())


async def _the_day(estate: EmbeddedEstate, clock: ManualClock) -> None:
    sandbox = estate.sandbox
    zhang = sandbox.user(1101, "张伟", language_code="zh-hans")
    tom = sandbox.user(1102, "Tom", last_name="Baker", language_code="en")
    lina = sandbox.user(5001, "李娜", language_code="zh-hans")
    zhao = sandbox.user(5002, "赵磊", language_code="zh-hans")
    chen = sandbox.user(3502, "陈静", language_code="zh-hans")
    wang = sandbox.user(5101, "王强", language_code="zh-hans")
    manager = sandbox.user(MANAGER_ID, "刘洋", language_code="zh-hans")
    zhou = sandbox.user(2201, "周杰", language_code="zh-hans")
    sandbox.user(5102, "陈芳", language_code="zh-hans")  # on duty in team B, though not in the printed day

    # 09:00 An owner reports a dripping tap; it goes to his own team's first butler.
    await zhang.send_text("厨房水龙头坏了，一直在滴水，麻烦尽快来看看")
    card = await lina.wait_for("#1001")
    clock.advance(timedelta(minutes=1))
    await lina.press(card, "接单")
    await zhang.wait_for("接单")

    # 09:03 The butler answers by replying to the card; the owner adds a photo to the same ticket.
    clock.advance(timedelta(minutes=2))
    await lina.send_text("张先生您好，我 10 分钟后带维修师傅上门。", reply_to=card)
    await zhang.wait_for("10 分钟后")
    await zhang.send_photo(caption="就是这个水龙头")
    await lina.wait_for(lambda m: m.kind == "photo")

    # 09:40 Done: the butler resolves, the owner confirms, rates and leaves a comment.
    clock.advance(timedelta(minutes=37))
    await lina.press(await lina.wait_for(lambda m: any(m.buttons)), "已处理完毕")
    question = await zhang.wait_for("解决了吗")
    await zhang.press(question, "已解决")
    stars = await zhang.wait_for("打分")
    await zhang.press(stars, "★★★★★")
    thanks = await zhang.wait_for("谢谢您的评价")
    await zhang.send_text("师傅很专业，谢谢李娜！", reply_to=thanks)
    await zhang.wait_for("已收到您对工单")

    # 10:15 A VIP owner complains: her team's butler and the manager both get it at once.
    clock.advance(timedelta(minutes=35))
    # 10:00 came and went: this month's property-fee notice, a week before the due date, reached 张伟.
    await zhang.wait_for("物业费")
    await chen.send_text("投诉：楼上装修噪音太大，早上八点前就开始了")
    await wang.wait_for("#1002")
    alert = await manager.wait_for("抄送经理")
    clock.advance(timedelta(minutes=2))
    await manager.send_text("陈女士您好，我已联系楼上业主，今天起装修改到 9 点以后。", reply_to=alert)
    await chen.wait_for("刘洋")
    complaint = await wang.wait_for("#1002")
    await wang.press(complaint, "接单")
    await chen.wait_for("已由管家 王强 接单")
    # The neighbour can only change his builders' hours from next week: the butler moves the commitment
    # once, with the reason, and the owner is told at once.
    await wang.press(await wang.wait_for(lambda m: "调整承诺时限" in str(m.buttons)), "调整承诺时限")
    ask = await wang.wait_for("请回复本消息，写明新时间和原因")
    await wang.send_text("11-24 18:00 楼上施工队周一起调整作业时间，届时回访确认", reply_to=ask)
    await chen.wait_for("需要更多时间")

    # 11:00 An English-speaking resident of unit 1-101 asks something; the same team's butler gets it.
    # 李娜 is out on the tap job and does not accept within three minutes: it goes to 赵磊.
    clock.advance(timedelta(minutes=45))
    await tom.send_text("The corridor light on floor 1 is broken")
    await tom.wait_for("#1003")
    await lina.wait_for("#1003")
    clock.advance(timedelta(minutes=3))
    passed = await zhao.wait_for("转派给您")
    await zhao.press(passed, "接单")
    await tom.wait_for("accepted by your butler")

    # 11:30 An owner who was not on Telegram joins with his invite code and makes a request.
    clock.advance(timedelta(minutes=30))
    await zhou.send_command("/start", estate.invite_for("周杰"))
    await zhou.wait_for("您好，周杰")
    await zhou.send_text("请问下周停水的具体时间是什么时候？")
    await zhou.wait_for("#1004")

    # 14:00 张伟 books a cleaning from the price list, at the published price, for tomorrow afternoon.
    clock.set(MORNING.replace(hour=14))
    await zhang.send_command("/services")
    await zhang.press(await zhang.wait_for("上门保洁"), "上门保洁")
    await zhang.press(await zhang.wait_for("按此价格预约"), "预约")
    ask = await zhang.wait_for("请「回复」本消息")
    await zhang.send_text("明天 15:00 请带吸尘器，家里有猫", reply_to=ask)
    await zhang.wait_for("#1005")
    await lina.press(await lina.wait_for("#1005"), "接单")
    await zhang.wait_for(lambda m: "#1005" in m.content and "接单" in m.content)

    # 16:00 The manager tells building 1 about tomorrow's water cut, after checking the preview.
    clock.set(MORNING.replace(hour=16))
    await manager.send_command("/announce")
    await manager.press(await manager.wait_for("请选择发送对象"), "1 号楼（3）")
    prompt = await manager.wait_for("写下公告内容")
    await manager.send_text(
        "明天（11月21日）9:00–12:00 1号楼二次供水设备检修，期间停水，请提前储水。给您带来不便，敬请谅解。",
        reply_to=prompt,
    )
    await manager.press(await manager.wait_for(lambda m: m.content.startswith("预览")), "发送")
    await tom.wait_for("Announcement")
    await estate.settled()  # every copy delivered (or refused) before the report looks
    clock.advance(timedelta(minutes=1))
    await manager.wait_for("已送达")

    # 18:00 The manager looks at the day so far.
    clock.set(MORNING.replace(hour=18))
    await manager.send_command("/digest")
    await manager.wait_for("今日服务数据")

    # 08:00 next morning: the daily digest of yesterday arrives by itself, with its chart.
    clock.set(MORNING.replace(hour=8) + timedelta(days=1))
    await manager.wait_for(DIGEST_TITLE)
    await manager.wait_for(lambda message: message.kind == "photo")


def _print_day(estate: EmbeddedEstate, out: TextIO) -> None:
    out.write("Guanjia demo: one day at the estate, as each person saw it in Telegram\n")
    out.write("(→ what the person sent, ← what the bot sent them; [buttons] under a message)\n")
    for telegram_id, title in CAST:
        user: SandboxUser = estate.sandbox.user(telegram_id, title)
        out.write(f"\n━━━━ {title} ━━━━\n")
        for message in user.transcript:
            out.write(_format(message))
    digest = next(m for m in estate.sandbox.user(MANAGER_ID, "").inbox if DIGEST_TITLE in m.content)
    out.write("\n━━━━ The manager's daily digest, next morning at 08:00 (服务日报) ━━━━\n")
    out.write(digest.content + "\n")
    out.write(
        "\nThe day is over: every message above went through the real bot, its database and its outbox.\n"
    )


def _format(message: ChatMessage) -> str:
    arrow = "←" if message.from_bot else "→"
    body = message.content
    if message.kind != "text":
        body = f"[{message.kind}] {body}".rstrip()
    lines = body.splitlines() or [""]
    text = f"  {arrow} {lines[0]}\n" + "".join(f"    {line}\n" for line in lines[1:])
    buttons = [label for row in message.buttons for label, _ in row]
    if buttons:
        text += "    " + " ".join(f"[{label}]" for label in buttons) + "\n"
    return text
