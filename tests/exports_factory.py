"""A small, valid cohort written by hand, for tests that break one rule at a time.

Values are chosen so that every score can be worked out on paper (see test_scoring.py).
"""

from __future__ import annotations

from pathlib import Path

PD = "paranoid,schizoid,schizotypal,antisocial,borderline,histrionic,narcissistic,avoidant,dependent,obsessive_compulsive,pd_nos"
SYMPTOMS = "mood,anxiety,ptsd,ocd,adhd,eating,substance,other_symptom"
WAI_ITEMS = ",".join(f"item_{i:02d}" for i in range(1, 13))
BSI_ITEMS = ",".join(f"item_{i:02d}" for i in range(1, 19))


def valid_exports() -> dict[str, list[str]]:
    """File base name -> lines (header first). Three patients, two WAI versions."""
    return {
        "patients": [
            "patient_id,age,gender,admission_date,discharge_date,termination,work_study_months",
            "A01,25,female,2011-01-10,2013-07-10,planned,0",
            "A02,31,male,2012-09-03,2013-03-01,dropout_late,6",
            "A03,40,other,2014-02-01,,ongoing,",
        ],
        "diagnoses": [
            f"patient_id,{PD},borderline_traits,pd_traits_total,{SYMPTOMS}",
            "A01,1,0,0,0,1,0,0,0,0,0,0,6,15,1,1,0,0,0,0,0,0",
            "A02,0,0,0,0,1,0,0,1,0,0,0,5,12,0,1,1,0,0,0,0,0",
            "A03,0,0,0,0,0,0,0,0,0,0,1,3,9,1,0,0,0,0,1,0,0",
        ],
        "wai": [
            f"patient_id,date,version,{WAI_ITEMS}",
            # WAI-S: items 4 and 10 reversed (8 - x).
            "A01,2011-04-10,WAI-S,5,5,5,2,5,5,5,5,5,2,5,5",
            "A01,2012-10-10,WAI-SR,6,6,6,6,6,6,6,6,6,6,6,6",
            "A01,2013-07-01,WAI-SR,7,7,7,7,7,,7,7,7,7,7,7",
            "A02,2012-12-03,WAI-SR,4,4,4,4,4,4,4,4,4,4,4,4",
            "A03,2014-05-01,WAI-SR,3,3,3,3,3,3,3,3,3,3,3,3",
        ],
        "gaf": [
            "patient_id,date,gaf,gaf_symptom,gaf_function",
            "A01,2011-01-10,45,,",
            "A01,2013-07-01,65,60,65",
            "A02,2012-09-03,50,,",
            "A02,2013-02-20,52,,",
            "A03,2014-02-01,41,,",
        ],
        "wsas": [
            "patient_id,date,item_1,item_2,item_3,item_4,item_5",
            "A01,2011-01-10,6,6,6,6,6",
            "A01,2013-07-01,2,2,2,2,2",
            "A02,2012-09-03,5,5,5,5,5",
        ],
        "bsi18": [
            f"patient_id,date,{BSI_ITEMS}",
            "A01,2011-01-10," + ",".join(["2"] * 18),
            "A01,2013-07-01," + ",".join(["0"] * 18),
        ],
        "sipp_sf": [
            "patient_id,date,self_control,social_concordance,identity_integration,relational_capacity,responsibility",
            "A01,2011-01-10,23.5,32,20,30,27",
        ],
        "eq5d": [
            "patient_id,date,mobility,self_care,usual_activities,pain_discomfort,anxiety_depression,vas",
            "A01,2011-01-10,2,1,2,3,2,40",
            "A02,2012-09-03,1,1,1,1,1,80",
        ],
    }


def write_exports(directory: Path, exports: dict[str, list[str]], delimiter: str = ",") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, lines in exports.items():
        text = "\n".join(lines) + "\n"
        if delimiter != ",":
            text = text.replace(",", delimiter)
        (directory / f"{name}.csv").write_text(text, encoding="utf-8")
    return directory
