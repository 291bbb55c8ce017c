"""A document in one of the six languages: its texts from the plan read in that language, and its
own words (headings, labels, the header's lines and dates) from the table below.

The writer (`application.document`) composes its labels in English; this pass puts each one in
the document's language where the writer placed it: node-less headings whole (appendix titles,
regions, a diff's parts), a node's heading or item by its leading label. Texts of the plan are
never touched here: they come translated (or, untranslated, in the source) from the state.
"""

# The table holds the labels in the six scripts, one label a line so a reviewer reads each
# language beside the English: Cyrillic letters and CJK punctuation are meant, and lines are long.
# ruff: noqa: RUF001, E501

from __future__ import annotations

import dataclasses
import datetime as dt

from planapi.application.document import Block, Document
from planapi.domain.translations import RTL

# English → (ar, zh, fr, ru, es)
_WORDS: dict[str, tuple[str, str, str, str, str]] = {
    # node-less headings
    "Terms": ("المصطلحات", "术语", "Termes", "Термины", "Términos"),
    "Priorities": ("الأولويات", "优先事项", "Priorités", "Приоритеты", "Prioridades"),
    "Outputs": ("النواتج", "产出", "Produits", "Результаты деятельности", "Productos"),
    "Enablers": ("العوامل التمكينية", "推动因素", "Facteurs", "Факторы", "Facilitadores"),
    "Regional initiatives": ("المبادرات الإقليمية", "区域举措", "Initiatives régionales",
                             "Региональные инициативы", "Iniciativas regionales"),
    "Resolutions": ("القرارات", "决议", "Résolutions", "Резолюции", "Resoluciones"),
    "Study groups": ("لجان الدراسات", "研究组", "Commissions d'études", "Исследовательские комиссии",
                     "Comisiones de estudio"),
    "Linkages": ("الروابط", "关联", "Liens", "Связи", "Vínculos"),
    "Africa": ("أفريقيا", "非洲", "Afrique", "Африка", "África"),
    "Americas": ("الأمريكتان", "美洲", "Amériques", "Северная и Южная Америка", "Américas"),
    "Arab States": ("الدول العربية", "阿拉伯国家", "États arabes", "Арабские государства",
                    "Estados Árabes"),
    "Asia-Pacific": ("آسيا والمحيط الهادئ", "亚太", "Asie-Pacifique", "Азиатско-Тихоокеанский регион",
                     "Asia-Pacífico"),
    "CIS": ("كومنولث الدول المستقلة", "独联体", "CEI", "СНГ", "CEI"),
    "Europe": ("أوروبا", "欧洲", "Europe", "Европа", "Europa"),
    "Other regions": ("مناطق أخرى", "其他区域", "Autres régions", "Другие регионы", "Otras regiones"),
    "Added": ("أضيف", "新增", "Ajouts", "Добавлено", "Añadido"),
    "Removed": ("حذف", "删除", "Suppressions", "Удалено", "Eliminado"),
    "Changed": ("عُدّل", "修改", "Modifications", "Изменено", "Modificado"),
    "Moved": ("نُقل", "移动", "Déplacements", "Перемещено", "Movido"),
    "Links added": ("روابط أضيفت", "新增关联", "Liens ajoutés", "Добавленные связи",
                    "Vínculos añadidos"),
    "Translations": ("الترجمات", "翻译", "Traductions", "Переводы", "Traducciones"),
    "Links removed": ("روابط حذفت", "删除关联", "Liens supprimés", "Удаленные связи",
                      "Vínculos eliminados"),
    # labels that lead a node's heading, item or paragraph
    "Outcome ": ("النتيجة ", "成果 ", "Résultat ", "Итог ", "Resultado "),
    "KPI ": ("مؤشر الأداء الرئيسي ", "关键绩效指标 ", "ICP ", "КПЭ ", "ICD "),
    "Project ": ("المشروع ", "项目 ", "Projet ", "Проект ", "Proyecto "),
    "Unit: ": ("الوحدة: ", "单位：", "Unité : ", "Единица: ", "Unidad: "),
    "Measure: ": ("القياس: ", "计量：", "Mesure : ", "Мера: ", "Medida: "),
    "Direction: ": ("الاتجاه: ", "方向：", "Sens : ", "Направление: ", "Dirección: "),
    "Baseline ": ("خط الأساس ", "基线 ", "Référence ", "Базовый уровень ", "Línea de base "),
    "Target ": ("الهدف ", "目标 ", "Cible ", "Целевой показатель ", "Meta "),
    "Disaggregated by ": ("مصنف حسب ", "按以下分列：", "Ventilé par ", "В разбивке по ",
                          "Desglosado por "),
    "Reported per ": ("يُبلغ عنه لكل ", "报告周期：", "Communiqué par ", "Отчетность за ",
                      "Informado por "),
    "Outputs serving it: ": ("النواتج التي تخدمه: ", "服务于此的产出：", "Produits qui y concourent : ",
                             "Результаты деятельности: ", "Productos que lo sirven: "),
    "Enablers supporting it: ": ("العوامل التي تدعمه: ", "支持此项的推动因素：",
                                 "Facteurs qui le soutiennent : ", "Поддерживающие факторы: ",
                                 "Facilitadores que lo apoyan: "),
    "Refers to ": ("يشير إلى ", "参照 ", "Se réfère à ", "Ссылка на ", "Se refiere a "),
    "Serves: ": ("يخدم: ", "服务于：", "Concourt à : ", "Служит: ", "Sirve a: "),
    "Supports: ": ("يدعم: ", "支持：", "Soutient : ", "Поддерживает: ", "Apoya: "),
    "Objective: ": ("الهدف: ", "目标：", "Objectif : ", "Цель: ", "Objetivo: "),
    "Expected result: ": ("النتيجة المتوقعة: ", "预期成果：", "Résultat attendu : ",
                          "Ожидаемый результат: ", "Resultado esperado: "),
    "Contributes to: ": ("يسهم في: ", "促进：", "Contribue à : ", "Способствует: ",
                         "Contribuye a: "),
    "Resolution": ("القرار", "决议", "Résolution", "Резолюция", "Resolución"),
    "Question ": ("المسألة ", "课题 ", "Question ", "Вопрос ", "Cuestión "),
    # the header
    "Version": ("الصيغة", "版本", "Version", "Версия", "Versión"),
    "recorded": ("سُجلت في", "记录于", "enregistrée le", "записана", "registrada el"),
    "Hash (SHA-256 chain head)": ("البصمة (رأس سلسلة SHA-256)", "哈希（SHA-256 链头）",
                                  "Empreinte (tête de chaîne SHA-256)",
                                  "Хеш (вершина цепочки SHA-256)",
                                  "Hash (cabeza de la cadena SHA-256)"),
    "Amendment": ("التعديل", "修正", "Amendement", "Поправка", "Enmienda"),
    "by": ("من", "由", "par", "автор", "por"),
    "Status": ("الحالة", "状态", "Statut", "Статус", "Estado"),
    "Effective from": ("نافذ اعتباراً من", "生效日期", "En vigueur à partir du",
                       "Вступает в силу с", "En vigor desde"),
    "Changes from version": ("التغييرات من الصيغة", "变更：从版本", "Modifications de la version",
                             "Изменения с версии", "Cambios de la versión"),
    "to version": ("إلى الصيغة", "至版本", "à la version", "по версию", "a la versión"),
}  # fmt: skip
_ORDER = ("ar", "zh", "fr", "ru", "es")
_HEADING_LABELS = ("Outcome ", "KPI ", "Project ")
_ITEM_LABELS = tuple(k for k in _WORDS if k.endswith((": ", "by ", "per ", "to ")))
_ITEM_LABELS += ("Baseline ", "Target ", "Resolution", "Question ")
_MONTHS = {
    "ar": "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
}  # fmt: skip


def word(english: str, lang: str) -> str:
    found = _WORDS.get(english)
    return found[_ORDER.index(lang)] if found and lang in _ORDER else english


def date_in(day: dt.date, lang: str) -> str:
    """A date as a reader of `lang` writes it (ISO 8601 in English, as documents always had)."""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    if lang in _MONTHS:
        month = _MONTHS[lang].split()[day.month - 1]
        return f"{day.day} {month} {day.year}" + (" г." if lang == "ru" else "")
    return day.isoformat()


def instant_in(instant: dt.datetime, lang: str) -> str:
    if lang not in _ORDER:
        return instant.isoformat()
    utc = instant.astimezone(dt.UTC)
    return f"{date_in(utc.date(), lang)} {utc:%H:%M} UTC"


def header_lines(document: Document) -> list[str]:
    """The header's lines in the document's language (in English exactly as before)."""
    record, info, lang = document.amendment, document.amendment.info, document.lang

    def w(english: str) -> str:
        return word(english, lang)

    versions = (
        f"{w('Changes from version')} {document.from_version} {w('to version')} {record.version}"
        if document.from_version is not None
        else f"{w('Version')} {record.version}"
    )
    made_by = f"{info.authority.value}: {info.rationale}"
    if info.reference:
        made_by += f" ({info.reference})"
    lines = [
        *([document.kind] if document.kind else []),
        f"{versions}, {w('recorded')} {instant_in(record.recorded_at, lang)}",
        f"{w('Hash (SHA-256 chain head)')}: {record.hash.hex()}",
        f"{w('Amendment')} {record.version} {w('by')} {info.actor} — {made_by}",
    ]
    if info.effective_from:
        lines.append(f"{w('Effective from')} {date_in(info.effective_from, lang)}")
    if document.status:
        lines.append(f"{w('Status')}: {document.status}")
    return lines


def in_language(document: Document, lang: str) -> Document:
    """`document`'s own words in `lang` (its plan texts already are)."""
    if lang not in _ORDER:
        return dataclasses.replace(document, lang=lang)
    return dataclasses.replace(
        document, lang=lang, blocks=[_block(block, lang) for block in document.blocks]
    )


def _block(block: Block, lang: str) -> Block:
    if block.type == "heading" and block.node_id is None:
        return dataclasses.replace(block, text=word(block.text, lang))
    labels = _HEADING_LABELS if block.type == "heading" else _ITEM_LABELS
    if block.type == "paragraph":
        labels = ("Objective: ",)
    for english in labels:
        if block.text.startswith(english):
            return dataclasses.replace(block, text=word(english, lang) + block.text[len(english) :])
    return block


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"
